"""ETags on editable records (grids, enterprises, users): GET answers one, If-None-Match gives 304, a write
with a stale If-Match is 412 and changes nothing, a write without one keeps working on the body's
``version`` alone, and the document says so."""

import pytest


@pytest.fixture
def records(demo):
    return {
        "grid": f"/api/v1/grids/{demo.grid_of['gridworker1']}",
        "enterprise": f"/api/v1/enterprises/{demo.retailer.id}",
        "user": f"/api/v1/users/{demo.users['gridworker1'].id}",
    }


def version_of(answer):
    body = answer.get_json()
    return body["properties"]["version"] if "properties" in body else body["version"]


@pytest.mark.parametrize(
    "kind, change",
    [("grid", {"name": "改名网格"}), ("enterprise", {"name": "改名企业"}), ("user", {"name": "改名的人"})],
)
def test_if_match_guards_a_write_and_version_alone_still_works(client, login, records, kind, change):
    desk, path = login("desk"), records[kind]
    first = client.get(path, headers=desk)
    tag = first.headers["ETag"]
    unchanged = client.get(path, headers={**desk, "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.data == b"" and unchanged.headers["ETag"] == tag
    # Written without If-Match: the body's version alone, as before ETags.
    plain = client.patch(path, headers=desk, json={**change, "version": version_of(first)})
    assert plain.status_code == 200, plain.get_json()
    assert plain.headers["ETag"] == client.get(path, headers=desk).headers["ETag"] != tag
    # The old tag is stale now: 412, nothing written, even with the right version in the body.
    stale = client.patch(path, headers={**desk, "If-Match": tag}, json={"name": "又改", "version": version_of(plain)})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert stale.get_json()["code"] == "precondition_failed"
    assert version_of(client.get(path, headers=desk)) == version_of(plain)
    # The current tag lets the write through, also as a compressed answer carried it ("…:gzip").
    fresh = client.get(path, headers={**desk, "Accept-Encoding": "gzip"})
    if kind != "user":  # a person's record is shorter than the 500 bytes worth compressing
        assert fresh.headers["ETag"].endswith(':gzip"')
    ok = client.patch(
        path,
        headers={**desk, "If-Match": fresh.headers["ETag"]},
        json={"name": "最终名称", "version": version_of(plain)},
    )
    assert ok.status_code == 200, ok.get_json()


def test_the_document_describes_etags_and_an_optional_if_match(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/grids/{grid_id}", "/api/v1/enterprises/{enterprise_id}", "/api/v1/users/{user_id}"):
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"]
        patch = paths[path]["patch"]
        [if_match] = [p for p in patch["parameters"] if p.get("name") == "If-Match"]
        assert if_match["required"] is False
        assert "412" in patch["responses"] and "428" not in patch["responses"]
