"""The roster import (网格员花名册, POST /api/v1/users/import and ``flask anxun users import``): every bad
row reported with its row, column and reason, nothing written unless every row passes, 5,000 rows in
one transaction, and any cell value whatsoever answered with row errors or success, never a 500."""

import csv
import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from accounts.models import User
from audit.models import AuditEntry
from geo.models import GridAssignment
from tests.accounts.rosters import roster_xlsx, phone
from tests.spreadsheets import any_cell


def _post(client, headers, data: bytes, dry_run: bool = False, name="花名册.xlsx"):
    return client.post(
        f"/api/v1/users/import?dry_run={'true' if dry_run else 'false'}",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def _village(demo, town_index: int, n: int):
    town = demo.towns[town_index]
    return town, [v for v in demo.villages if v.parent_id == town.id][n]


def _found(answer) -> set:
    return {(e["row"], e["column"], e["code"]) for e in answer.get_json()["report"]["errors"]}


def test_a_clean_roster_is_checked_then_imported_with_temporary_passwords(client, login, demo, session):
    desk = login("desk")
    town, first = _village(demo, 0, 2)
    _, second = _village(demo, 0, 3)
    data = roster_xlsx(
        [
            ("周一", phone(1), town.name, first.name, ""),  # the village's only grid
            ("吴二", int(phone(2)), town.code, second.name, f"{second.name}网格"),  # phone typed as a number
            (" 郑三 ", f"+86 {phone(3)}", town.name, second.code, None),
        ],
        title_rows=[("青石镇网格员花名册",)],
    )
    before = _users(session)
    checked = _post(client, desk, data, dry_run=True)
    assert checked.status_code == 200, checked.get_json()
    report = checked.get_json()
    assert report["dry_run"] is True and report["written"] is False and report["errors"] == []
    assert [(p["row"], p["username"], p["grid"]["name"]) for p in report["people"]] == [
        (3, phone(1), f"{first.name}网格"),
        (4, phone(2), f"{second.name}网格"),
        (5, phone(3), f"{second.name}网格"),
    ]
    assert all("temporary_password" not in p for p in report["people"]) and _users(session) == before

    imported = _post(client, desk, data)
    assert imported.status_code == 201, imported.get_json()
    people = imported.get_json()["people"]
    assert imported.get_json()["created"] == 3 and _users(session) == before + 3
    assert people[2]["name"] == "郑三"
    answer = client.post(
        "/api/v1/auth/login",
        json={"username": phone(1), "password": people[0]["temporary_password"], "device": {"id": "roster-phone"}},
    )
    assert answer.status_code == 200 and answer.get_json()["must_change_password"] is True
    made = session.scalar(select(User).where(User.username == phone(2)))
    assert made.roles == ["grid_worker"] and made.region_id == second.id and made.phone == phone(2)
    assert (
        session.scalar(
            select(GridAssignment.grid_id).where(GridAssignment.user_id == made.id, GridAssignment.ended_at.is_(None))
        )
        is not None
    )
    actions = session.execute(
        select(AuditEntry.action, func.count())
        .where(AuditEntry.action.in_(["import", "import_roster"]))
        .group_by(AuditEntry.action)
    ).all()
    assert dict(actions) == {"import": 3, "import_roster": 1}
    # The same file again: every phone is taken now, nothing more is written.
    again = _post(client, desk, data)
    assert again.status_code == 422 and {c for _, _, c in _found(again)} == {"roster.phone_taken"}


def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(client, login, demo, session):
    desk = login("desk")
    town, village = _village(demo, 0, 0)
    other_town, other_village = _village(demo, 1, 0)
    _, neighbour = _village(demo, 0, 1)
    rows = [
        ("好人", phone(10), town.name, village.name, ""),  # 2: fine
        ("", phone(11), town.name, village.name, ""),  # 3: no name
        ("坏号", "1390000", town.name, village.name, ""),  # 4: bad phone
        ("无号", None, town.name, village.name, ""),  # 5: no phone
        ("重号", phone(10), town.name, village.name, ""),  # 6: twice in the file
        ("已有", "13800001001", town.name, village.name, ""),  # 7: the demo desk's phone
        ("错镇", phone(12), "不存在镇", village.name, ""),  # 8: unknown town
        ("错村", phone(13), town.name, other_village.name, ""),  # 9: village of another town
        ("无村", phone(14), town.name, "不存在村", ""),  # 10: unknown village
        ("错格", phone(15), town.name, village.name, "不存在网格"),  # 11: grid not found
        ("越格", phone(16), town.name, village.name, f"{neighbour.name}网格"),  # 12: grid without the village
        ("空镇", phone(17), "", village.name, ""),  # 13: no town
        ("空村", phone(18), town.name, "", ""),  # 14: no village
        ("长" * 101, phone(19), town.name, village.name, ""),  # 15: name too long
    ]
    before = _users(session)
    for dry_run in (True, False):
        answer = _post(client, desk, roster_xlsx(rows), dry_run=dry_run)
        assert answer.status_code == 422 and answer.get_json()["code"] == "roster.invalid"
        assert _found(answer) == {
            (3, "姓名", "roster.name_missing"),
            (4, "手机号", "roster.phone_invalid"),
            (5, "手机号", "roster.phone_missing"),
            (6, "手机号", "roster.phone_duplicate_in_file"),
            (7, "手机号", "roster.phone_taken"),
            (8, "乡镇", "roster.unknown_town"),
            (9, "村/社区", "roster.village_not_in_town"),
            (10, "村/社区", "roster.unknown_village"),
            (11, "网格", "roster.unknown_grid"),
            (12, "网格", "roster.grid_not_in_village"),
            (13, "乡镇", "roster.town_missing"),
            (14, "村/社区", "roster.village_missing"),
            (15, "姓名", "roster.too_long"),
        }
        assert _users(session) == before
    body = answer.get_json()
    messages = {e["row"]: e["message"] for e in body["report"]["errors"]}
    assert messages[6] == f"手机号 {phone(10)} 与第 2 行重复"
    assert messages[7] == "手机号 13800001001 已被账号 desk 使用"
    assert messages[9] == f"村/社区“{other_village.name}”不属于“{town.name}”（属于{other_town.name}）"
    assert {
        "code": "roster.phone_invalid",
        "field": "rows.4.手机号",
        "message": "第 4 行“手机号”：“1390000”不是 11 位中国大陆手机号",
    } in body["errors"]
    assert "13 行有错误" in body["detail"]


def test_one_bad_row_among_many_writes_nothing(client, login, demo, session):
    desk = login("desk")
    town, village = _village(demo, 0, 4)
    rows = [(f"网格员{n}", phone(100 + n), town.name, village.name, "") for n in range(300)]
    rows[250] = ("坏行", phone(350), town.name, "查无此村", "")
    before = _users(session)
    answer = _post(client, desk, roster_xlsx(rows))
    assert answer.status_code == 422 and _found(answer) == {(252, "村/社区", "roster.unknown_village")}
    assert _users(session) == before
    rows[250] = ("改好", phone(350), town.name, village.name, "")
    assert _post(client, desk, roster_xlsx(rows)).status_code == 201
    assert _users(session) == before + 300


def test_a_town_desk_officer_imports_only_into_the_town(client, login, demo, town_desk):
    desk_a = login(town_desk(demo.towns[0]))
    town_b, village_b = _village(demo, 1, 0)
    answer = _post(client, desk_a, roster_xlsx([("外镇人", phone(20), town_b.name, village_b.name, "")]))
    assert answer.status_code == 422 and _found(answer) == {(2, "乡镇", "roster.unknown_town")}
    assert (
        client.post(
            "/api/v1/users/import",
            headers=login("inspector1"),
            data={"file": (io.BytesIO(b"x"), "a.xlsx")},
            content_type="multipart/form-data",
        ).status_code
        == 403
    )


def test_files_that_are_no_roster(client, login, demo):
    desk = login("desk")
    town, village = _village(demo, 0, 0)
    unreadable = _post(client, desk, b"PK\x03\x04 not really a zip")
    assert unreadable.status_code == 422 and unreadable.get_json()["code"] == "roster.unreadable"
    no_phone_column = _post(client, desk, roster_xlsx([("甲", town.name, village.name)], header=("姓名", "乡镇", "村")))
    assert _found(no_phone_column) == {(1, "手机号", "roster.missing_column")}
    no_header = _post(client, desk, roster_xlsx([("甲", phone(30))], header=("随便", "什么")))
    assert _found(no_header) == {(1, None, "roster.no_header")}
    empty = _post(client, desk, roster_xlsx([]))
    assert _found(empty) == {(1, None, "roster.empty")}
    # Headers as counties write them: brackets, stars, spaces; columns in any order; blank rows skipped.
    spelled = roster_xlsx(
        [
            (village.name, "甲", phone(31), town.name),
            (None, None, None, None),
            (village.name, "乙", phone(32), town.name),
        ],
        header=("村（社区）", "*姓名", "手机号码", " 乡镇 "),
    )
    answer = _post(client, desk, spelled, dry_run=True)
    assert answer.status_code == 200, answer.get_json()
    assert [p["row"] for p in answer.get_json()["people"]] == [2, 4]


def test_five_thousand_rows_import_in_one_transaction(client, login, demo, session, capsys):
    desk = login("desk")
    villages = [(t, v) for t in demo.towns for v in demo.villages if v.parent_id == t.id]
    rows = [
        (
            f"网格员{n:04d}",
            phone(10_000 + n),
            villages[n % len(villages)][0].name,
            villages[n % len(villages)][1].name,
            "",
        )
        for n in range(5000)
    ]
    data = roster_xlsx(rows)
    before = _users(session)
    started = time.perf_counter()
    checked = _post(client, desk, data, dry_run=True)
    checked_in = time.perf_counter() - started
    assert checked.status_code == 200 and checked.get_json()["rows"] == 5000
    started = time.perf_counter()
    imported = _post(client, desk, data)
    imported_in = time.perf_counter() - started
    assert imported.status_code == 201 and imported.get_json()["created"] == 5000
    assert _users(session) == before + 5000
    assert len({p["temporary_password"] for p in imported.get_json()["people"]}) == 5000
    with capsys.disabled():
        print(
            f"\nroster of 5,000 rows ({len(data) // 1024} KiB): dry run {checked_in:.1f} s, import {imported_in:.1f} s"
        )
    # One bad row at the end: none of the 5,000 others is written either.
    rows = [(name, phone(20_000 + n), town, village, grid) for n, (name, _, town, village, grid) in enumerate(rows)]
    rows[-1] = ("末行", "123", rows[-1][2], rows[-1][3], "")
    answer = _post(client, desk, roster_xlsx(rows))
    assert answer.status_code == 422 and _found(answer) == {(5001, "手机号", "roster.phone_invalid")}
    assert _users(session) == before + 5000


@pytest.fixture
def desk(login):
    return login("desk")


cells = any_cell(
    "青石镇",
    "白沙镇",
    "500299100000",
    "13900000001",
    "139 0000 0002",
    "+8613900000003",
    "网格",
    "村/社区",
    "姓名",
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=7), max_size=6),
    header=st.permutations(["姓名", "手机号", "乡镇", "村/社区", "网格"]),
)
def test_any_cell_values_get_row_errors_or_success_never_a_500(client, desk, rows, header):
    answer = _post(client, desk, roster_xlsx(rows, header=header), dry_run=True)
    assert answer.status_code in (200, 422), answer.get_json()
    body = answer.get_json()
    if answer.status_code == 422 and body["code"] == "roster.invalid":
        assert body["errors"] and all(e["row"] >= 1 and e["message"] for e in body["report"]["errors"])
    elif answer.status_code == 422:
        assert body["code"] == "roster.unreadable"  # a value openpyxl writes but cannot read back
    else:
        assert body["errors"] == [] and len(body["people"]) == body["rows"] >= 1


def test_the_command_line_imports_with_progress_and_hands_out_passwords(app, demo, session, tmp_path):
    runner = app.test_cli_runner()
    town, village = _village(demo, 2, 0)
    good = tmp_path / "roster.xlsx"
    good.write_bytes(
        roster_xlsx(
            [("命令行甲", phone(40), town.name, village.name, ""), ("命令行乙", phone(41), town.name, village.name, "")]
        )
    )
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(roster_xlsx([("命令行丙", "12", town.name, village.name, "")]))
    before = _users(session)

    failed = runner.invoke(args=["anxun", "users", "import", str(bad)])
    assert failed.exit_code == 1 and "第 2 行 手机号" in failed.output and "roster.phone_invalid" in failed.output
    checked = runner.invoke(args=["anxun", "users", "import", str(good), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "all 2 rows pass" in checked.output and "检查" in checked.output  # the bar's label
    assert _users(session) == before
    out = tmp_path / "passwords.csv"
    done = runner.invoke(args=["anxun", "users", "import", str(good), "--output", str(out), "--as", "desk"])
    assert done.exit_code == 0, done.output
    assert "imported 2" in done.output and "写入" in done.output
    lines = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0][:4] == ["行", "姓名", "用户名", "临时密码"] and [line[2] for line in lines[1:]] == [
        phone(40),
        phone(41),
    ]
    assert _users(session) == before + 2
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_roster"))
    assert entry.actor_id == demo.users["desk"].id and entry.summary["via"] == "cli"


def test_the_command_line_creates_resets_and_deactivates(app, client, demo, session):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "anxun",
            "users",
            "create",
            "--name",
            "命令行执法",
            "--role",
            "inspector",
            "--phone",
            phone(50),
            "--region",
            "500299000000",
            "--cert-no",
            "CLI-001",
            "--cert-valid-until",
            "2027-12-31",
        ]
    )
    assert created.exit_code == 0, created.output
    temporary = created.output.rsplit("temporary password: ", 1)[1].strip()
    login = client.post(
        "/api/v1/auth/login", json={"username": phone(50), "password": temporary, "device": {"id": "cli-test"}}
    )
    assert login.status_code == 200 and login.get_json()["must_change_password"] is True
    refused = runner.invoke(
        args=[
            "anxun",
            "users",
            "create",
            "--name",
            "x",
            "--role",
            "inspector",
            "--phone",
            phone(51),
            "--region",
            "500299000000",
        ]
    )
    assert refused.exit_code == 1 and "users.cert_required" in refused.output
    reset = runner.invoke(args=["anxun", "users", "reset-password", "gridworker1"])
    assert reset.exit_code == 0 and "temporary password" in reset.output
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "gridworker1", "password": "anxun-demo", "device": {"id": "cli-2"}}
        ).status_code
        == 401
    )
    stopped = runner.invoke(args=["anxun", "users", "deactivate", "gridworker2"])
    assert stopped.exit_code == 0 and "deactivated" in stopped.output
    assert session.scalar(select(User.active).where(User.username == "gridworker2")) is False
    unknown = runner.invoke(args=["anxun", "users", "deactivate", "nobody"])
    assert unknown.exit_code != 0
    outside = runner.invoke(args=["anxun", "users", "deactivate", "gridworker3", "--as", "desk-nobody"])
    assert outside.exit_code != 0


def test_oversized_files_and_zip_bombs_are_refused_before_reading(client, desk, session):
    import zipfile

    before = _users(session)
    big = _post(client, desk, b"PK" + b"\0" * (10 * 1024 * 1024))
    assert big.status_code == 413 and big.get_json()["code"] == "roster.too_large"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (201 * 1024 * 1024))
    answer = _post(client, desk, bomb.getvalue())
    assert answer.status_code == 413 and answer.get_json()["detail"] == "花名册解压后过大"
    assert _users(session) == before
