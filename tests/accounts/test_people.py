"""The people directory (人员名录): scoped like every read, names and 执法证 for inspectors, never a
phone number or a password."""

import uuid

import pytest

from accounts.service import create_user


@pytest.fixture
def town_desk(session, demo):
    return create_user(
        session,
        username="desk-town1",
        name="镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[0].id,
        phone="13900000000",
    )


def _names(client, headers, **query):
    body = client.get("/api/v1/people", headers=headers, query_string={"per_page": 500, **query}).get_json()
    return {p["name"] for p in body["items"]}, body


def test_the_directory_gives_names_roles_regions_and_certificates_but_no_phone(client, login, demo, town_desk):
    names, body = _names(client, login("desk"))
    assert {"李执法", "张执法", "王内勤", "赵网格", "孙网格", "周安全员", "镇内勤"} <= names
    assert body["total"] == len(body["items"]) and body["page"] == 1
    inspector = next(p for p in body["items"] if p["name"] == "李执法")
    assert inspector == {
        "id": str(demo.users["inspector1"].id),
        "name": "李执法",
        "roles": ["inspector"],
        "region": {"code": "500299000000", "name": inspector["region"]["name"], "level": "district"},
        "enforcement_cert": {"number": "50029920260001", "valid_until": "2028-12-31", "valid": True},
        "active": True,
    }
    assert next(p for p in body["items"] if p["name"] == "赵网格")["enforcement_cert"] is None
    raw = client.get("/api/v1/people?per_page=500", headers=login("desk")).get_data(as_text=True)
    assert "phone" not in raw and "13800001001" not in raw and "13900000000" not in raw and "argon2" not in raw
    one = client.get(f"/api/v1/people/{demo.users['inspector2'].id}", headers=login("desk"))
    assert one.status_code == 200 and one.get_json()["enforcement_cert"]["number"] == "50029920260002"
    only = _names(client, login("desk"), role="inspector")[0]
    assert only == {"李执法", "张执法"}
    assert client.get("/api/v1/people").status_code == 401


def test_the_directory_is_scoped_by_region(client, login, demo, town_desk):
    town = _names(client, login("desk-town1"))[0]
    assert {"赵网格", "钱网格", "镇内勤"} <= town and not town & {"孙网格", "王内勤", "李执法"}
    assert client.get(f"/api/v1/people/{demo.users['gridworker3'].id}", headers=login("desk-town1")).status_code == 404
    # A grid worker sees the people of their village and town; an enterprise officer only themself.
    worker = _names(client, login("gridworker1"))[0]
    assert "赵网格" in worker and "镇内勤" in worker and "王内勤" not in worker and "孙网格" not in worker
    assert _names(client, login("enterprise1"))[0] == {"周安全员"}
    assert client.get(f"/api/v1/people/{uuid.uuid4()}", headers=login("admin")).status_code == 404
