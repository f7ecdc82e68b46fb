"""Checklist templates in the database and over HTTP: publishing, immutability, versions, ETag/304."""

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from checklists.definition import DEFAULT_DIRECTORY, find_template, load_all
from checklists.service import PublishedVersionEdited, publish_templates, template_for_inspection

ROOT = Path(__file__).resolve().parents[2]


def test_list_gives_latest_version_of_every_template(client, login):
    response = client.get("/api/v1/checklists", headers=login("inspector1"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    codes = {i["code"] for i in items}
    assert {
        "fireworks.retail",
        "fireworks.production_wholesale",
        "hazardous_chemicals.production",
        "hazardous_chemicals.trading_storage",
        "hazardous_chemicals.filling_station",
        "construction.housing_municipal",
        "special_equipment.user_unit",
        "gas.operator",
        "gas.user",
    } <= codes
    assert all(i["item_count"] > 0 for i in items)


def test_list_filters_by_industry_and_subtype(client, login):
    headers = login("inspector1")
    fireworks = client.get("/api/v1/checklists?industry=fireworks", headers=headers).get_json()["items"]
    assert {i["industry"] for i in fireworks} == {"fireworks"}
    retail = client.get("/api/v1/checklists?industry=fireworks&subtype=retail", headers=headers).get_json()["items"]
    assert [i["code"] for i in retail] == ["fireworks.retail"]
    assert client.get("/api/v1/checklists?industry=mining", headers=headers).status_code == 422


def test_latest_and_given_version_with_items(client, login):
    headers = login("gridworker1")
    latest = client.get("/api/v1/checklists/fireworks.retail", headers=headers)
    assert latest.status_code == 200
    body = latest.get_json()
    assert body["version"] >= 1 and body["items"]
    item = body["items"][0]
    assert {"code", "text", "section", "basis", "major", "answer", "check_method", "evidence"} <= set(item)
    version = client.get(f"/api/v1/checklists/fireworks.retail/versions/{body['version']}", headers=headers)
    assert version.get_json()["content_hash"] == body["content_hash"]
    missing = client.get("/api/v1/checklists/fireworks.retail/versions/999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["code"] == "checklist.not_found"


def test_construction_checklist_cites_the_2024_standard_item_by_item(client, login):
    """建质规〔2024〕5号 第十八条 repealed the 2022 standard: the construction checklist handed out
    cites the 2024 text, article and sub-item, for every major item; the work plans behind the
    general items print as local practice (地方做法); the version citing 2022 stays readable, withdrawn."""
    headers = login("inspector1")
    body = client.get("/api/v1/checklists/construction.housing_municipal", headers=headers).get_json()
    sources = {s["id"]: s for s in body["sources"]}
    assert "建质规〔2022〕2号" not in {s["number"] for s in sources.values()}
    standard = sources["cn-major-2024"]
    assert (standard["title"], standard["number"]) == (
        "《房屋市政工程生产安全重大事故隐患判定标准（2024版）》",
        "建质规〔2024〕5号",
    )
    majors = [i for i in body["items"] if i["major"]]
    assert {i["basis"]["document"] for i in majors} == {"cn-major-2024"}
    clauses = {i["basis"]["clause"] for i in majors}
    assert len(clauses) == 53  # 第四至十七条: 五十三项
    articles = {re.match(r"第([一二三四五六七八九十]+)条", c).group(1) for c in clauses}
    assert articles == {
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
        "十五",
        "十六",
        "十七",
    }
    assert all(re.fullmatch(r"第[一二三四五六七八九十]+条(第（[一二三四五六七八九]）项)?", c) for c in clauses)
    by_code = {i["code"]: i for i in body["items"]}
    assert by_code["CN-HM-132"]["basis"] == {
        "document": "cn-major-2024",
        "clause": "第十五条第（三）项",
        "title": standard["title"],
    }
    assert by_code["CN-HM-132"]["evidence"] == {"photo_required_when_failed": True}
    local = {code for code, i in by_code.items() if sources[i["basis"]["document"]].get("kind") == "local_practice"}
    assert local == {"CN-HM-005", "CN-HM-007", "CN-HM-024", "CN-HM-063"}
    assert not any(by_code[code]["major"] for code in local)
    old = client.get("/api/v1/checklists/construction.housing_municipal/versions/1", headers=headers).get_json()
    assert old["status"] == "withdrawn" and old["withdrawn_at"] is not None
    assert "建质规〔2022〕2号" in {s["number"] for s in old["sources"]}


@pytest.mark.parametrize(
    "path", ["/api/v1/checklists", "/api/v1/checklists/gas.user", "/api/v1/checklists/gas.user/versions/1"]
)
def test_etag_and_if_none_match_give_304(client, login, path):
    headers = login("gridworker1")
    first = client.get(path, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(path, headers={**headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_publishing_again_changes_nothing(session, clock):
    report = publish_templates(session, clock)
    assert report.published == [] and report.withdrawn == []
    assert len(report.unchanged) == len(load_all())


def test_an_edited_published_version_is_refused(session, clock, tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(DEFAULT_DIRECTORY, folder)
    path = folder / "gas.user.v1.yaml"
    source = path.read_text(encoding="utf-8")
    first_item_text = load_all(folder)
    gas = next(t for t in first_item_text if t.code == "gas.user")
    path.write_text(source.replace(gas.items[0].text, gas.items[0].text + "（改）", 1), encoding="utf-8")
    with pytest.raises(PublishedVersionEdited) as err:
        publish_templates(session, clock, load_all(folder))
    assert "gas.user" in err.value.errors[0].field
    # The database itself refuses a changed hash, whatever code tries it.
    with pytest.raises(DBAPIError, match="immutable"):
        with session.begin_nested():
            session.execute(text("UPDATE checklist_templates SET content_hash = 'x' WHERE code = 'gas.user'"))


def test_withdrawn_version_is_not_handed_out_but_stays_readable(client, login, session, clock):
    templates = load_all()
    v1 = find_template(templates, "gas.user")  # the version handed out now
    v2 = dataclasses.replace(v1, version=v1.version + 1, title=v1.title + "（修订）")
    publish_templates(session, clock, templates + [v2])
    headers = login("inspector1")
    assert client.get("/api/v1/checklists/gas.user", headers=headers).get_json()["version"] == v2.version
    withdrawn = dataclasses.replace(v2, status="withdrawn")
    report = publish_templates(session, clock, templates + [withdrawn])
    assert report.withdrawn == [f"gas.user v{v2.version}"]
    assert client.get("/api/v1/checklists/gas.user", headers=headers).get_json()["version"] == v1.version
    old = client.get(f"/api/v1/checklists/gas.user/versions/{v2.version}", headers=headers).get_json()
    assert old["status"] == "withdrawn"
    # Inspections recorded offline against the withdrawn version can still be scored.
    assert template_for_inspection(session, "gas.user", v2.version).title == v2.title


def test_the_validate_command_passes_the_shipped_templates_and_names_a_bad_file(tmp_path):
    """The one command a county's editor runs (docs/checklists.md), as they run it: no database needed."""

    def validate(*args):
        return subprocess.run(
            [sys.executable, "-m", "checklists.cli_validate", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"]},
        )

    ok = validate()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "bad.v1.yaml").write_text("code: bad\nversion: 1\n", encoding="utf-8")
    bad = validate(str(tmp_path))
    assert bad.returncode == 1
    assert "bad.v1.yaml" in bad.stdout
