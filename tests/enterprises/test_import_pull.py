"""What an enterprise import means for the phones (SYNC_PROTOCOL.md §3), on a committed database: the grid
worker's next pull brings the enterprises imported into their grid, a re-import's update with its new
version, and drops one the re-import moved out of the grid."""

import io

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from geo.models import Region
from tests.enterprises.lists import inside, list_xlsx, row
from tests.sync.conftest import Phone


def test_the_grid_workers_pull_follows_imports_and_reimports(committed_app):
    app, _, url = committed_app
    client = app.test_client()
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            villages = list(session.scalars(select(Region).where(Region.level == "village").order_by(Region.code)))
            mine, next_door = villages[0], villages[1]
            town = session.get(Region, mine.parent_id)
            here, there = inside(session, mine, gcj02=True), inside(session, next_door, gcj02=True)
    finally:
        engine.dispose()
    worker = Phone(client, "gridworker1")
    worker.pull_all()
    known = worker.ids("enterprise")
    desk = Phone(client, "desk").headers

    def send(rows, **query):
        answer = client.post(
            "/api/v1/enterprises/import",
            headers=desk,
            query_string=query,
            data={"file": (io.BytesIO(list_xlsx(rows)), "企业名单.xlsx")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["enterprises"]

    made = send([row(1, town, mine, here), row(2, town, mine, here), row(3, town, next_door, there)])
    ids = [e["id"] for e in made]
    worker.pull_all()
    assert worker.ids("enterprise") - known == {ids[0], ids[1]}  # the third lies in another grid
    first = worker.records[("enterprise", ids[0])]
    assert first["name"] == "导入测试烟花零售点1" and first["risk"] == "yellow" and first["region_code"] == mine.code

    send([row(1, town, mine, here, 风险等级="红"), row(2, town, next_door, there)], existing="update")
    worker.pull_all()
    updated = worker.records[("enterprise", ids[0])]
    assert updated["risk"] == "red" and updated["version"] == first["version"] + 1
    assert ids[1] not in worker.ids("enterprise")  # moved to the neighbouring grid: no longer this phone's
