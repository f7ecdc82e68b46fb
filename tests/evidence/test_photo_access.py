"""Who sees a photo (its uploader, and whoever may see a record naming it; everyone else
gets 404), the owner registry, naming photos from records, and the geotag check."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Uuid, event, exists, func, literal, select
from sqlalchemy.engine.default import CACHE_HIT

from accounts.principal import Principal
from core.clock import SHANGHAI
from enterprises.models import Enterprise
from evidence import access
from evidence.access import PhotoContext, may_see_photo, register_photo_owner
from evidence.models import PhotoRef
from evidence.service import missing_photos, name_photos, photos_named_by
from evidence.storage import InvalidSha
from geo.models import Region
from tests.evidence import images
from tests.evidence.uploads import sha_of, statuses, upload


def retailer_lonlat(session, demo) -> tuple[float, float]:
    return session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == demo.retailer.id)
    ).one()


def photo_at(lon: float, lat: float, *, taken: str | None = "2026:11:22 09:30:00", size=(320, 240)) -> bytes:
    # repr() keeps every digit, so the EXIF rationals say exactly this point.
    return images.jpeg(size, images.make_exif(lon=repr(lon), lat=repr(lat), taken=taken))


def offset_north(lat: float, metres: float) -> float:
    return lat + metres / 111_195.0  # one degree of latitude on the mean sphere


# --------------------------------------------------------------------------- access


def test_unnamed_photo_is_seen_by_its_uploader_only(client, users):
    sha = upload(client, users("gridworker1"), images.jpeg((320, 240), images.make_exif()))
    assert statuses(client, users("gridworker1"), sha) == [200, 200, 200]
    for outsider in ("gridworker3", "gridworker2", "desk", "enterprise1", "admin"):
        assert statuses(client, users(outsider), sha) == [404, 404, 404], outsider
    body = client.get(f"/api/v1/photos/{sha}", headers=users("gridworker3")).get_json()
    assert body["code"] == "photo.not_found"


def test_photo_named_by_an_enterprise_is_seen_by_whoever_sees_the_enterprise(
    client, users, session, clock, demo, uploader
):
    sha = upload(client, users("gridworker1"), images.jpeg((320, 240), images.make_exif()))
    assert name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha]) == []
    for insider in ("gridworker1", "desk", "inspector1", "enterprise1", "admin"):
        assert statuses(client, users(insider), sha) == [200, 200, 200], insider
    # The neighbouring village's grid worker and the other town's do not see that enterprise.
    for outsider in ("gridworker2", "gridworker3"):
        assert statuses(client, users(outsider), sha) == [404, 404, 404], outsider


def test_photo_of_another_enterprise_is_not_seen_by_this_enterprise_officer(
    client, users, session, clock, demo, uploader
):
    other = session.scalar(
        select(Enterprise.id)
        .where(Enterprise.id != demo.retailer.id, Enterprise.grid_id == demo.retailer.grid_id)
        .limit(1)
    )
    sha = upload(client, users("gridworker1"), images.png((50, 50)))
    name_photos(session, clock, uploader, "enterprise", other, [sha])
    assert statuses(client, users("enterprise1"), sha) == [404, 404, 404]
    assert statuses(client, users("desk"), sha) == [200, 200, 200]


def test_records_of_unregistered_entities_give_no_access(client, users, session, clock, uploader):
    sha = upload(client, users("gridworker1"), images.png((40, 40)))
    name_photos(session, clock, uploader, "not_registered", uuid.uuid4(), [sha])
    assert statuses(client, users("admin"), sha) == [404, 404, 404]


def test_the_access_check_is_one_query(client, users, session, clock, demo, uploader):
    sha = upload(client, users("gridworker1"), images.png((30, 30)))
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha])
    desk = demo.users["desk"]
    from accounts.service import _principal

    principal: Principal = _principal(session, desk, None)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(session.connection(), "before_cursor_execute", count)
    try:
        assert may_see_photo(session, principal, sha) is True
    finally:
        event.remove(session.connection(), "before_cursor_execute", count)
    assert len(statements) == 1
    assert "photo_refs" in statements[0]


# --------------------------------------------------------------------------- naming


def test_name_photos_reports_missing_and_is_idempotent(client, users, session, clock, demo, uploader):
    held = upload(client, users("gridworker1"), images.png((20, 20)))
    later = sha_of(b"a photo still on the phone")
    record = uuid.uuid4()
    assert name_photos(session, clock, uploader, "hazard", record, [held, later, later]) == [later]
    assert name_photos(session, clock, uploader, "hazard", record, [later, held]) == [later]
    assert name_photos(session, clock, uploader, "hazard", record, []) == []
    assert session.scalar(select(func.count()).select_from(PhotoRef).where(PhotoRef.entity_id == record)) == 2
    assert photos_named_by(session, "hazard", record) == sorted([held, later])
    assert missing_photos(session, [held, later]) == [later]
    assert missing_photos(session, []) == []
    with pytest.raises(InvalidSha):
        name_photos(session, clock, uploader, "hazard", record, ["not-a-sha"])


def test_naming_photos_reuses_its_compiled_statements(client, users, session, clock, demo, uploader):
    """A PostgreSQL INSERT … ON CONFLICT built by SQLAlchemy has no cache key: it was compiled anew on
    every push (≈ 10 % of a push's CPU). The second naming must find every statement in the cache."""
    held = upload(client, users("gridworker1"), images.png((24, 24)))
    name_photos(session, clock, uploader, "hazard", uuid.uuid4(), [held, sha_of(b"not yet")])
    hits: list = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        hits.append((context.cache_hit, statement.split()[0]))

    event.listen(session.connection(), "before_cursor_execute", seen)
    try:
        assert name_photos(session, clock, uploader, "hazard", uuid.uuid4(), [held, sha_of(b"still not")]) == [
            sha_of(b"still not")
        ]
    finally:
        event.remove(session.connection(), "before_cursor_execute", seen)
    assert [word for _, word in hits] == ["SELECT", "INSERT"]
    assert all(hit == CACHE_HIT for hit, _ in hits), hits


def test_photo_named_before_it_is_uploaded(client, users, session, clock, demo, uploader):
    """SYNC_PROTOCOL.md §2 rule 5: the record arrives first, the photo later."""
    data = images.jpeg((320, 240), images.make_exif())
    sha = sha_of(data)
    assert name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha]) == [sha]
    assert client.head(f"/api/v1/photos/{sha}", headers=users("desk")).status_code == 404
    upload(client, users("gridworker1"), data)
    assert missing_photos(session, [sha]) == []
    assert statuses(client, users("desk"), sha) == [200, 200, 200]


# --------------------------------------------------------------------------- geotag check


def test_geotag_check_against_the_enterprise(client, users, session, clock, demo, uploader):
    lon, lat = retailer_lonlat(session, demo)
    near = upload(client, users("gridworker1"), photo_at(lon, offset_north(lat, 50)))
    far = upload(client, users("gridworker1"), photo_at(lon, offset_north(lat, 2000)))
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [near, far])

    body = client.get(f"/api/v1/photos/{near}", headers=users("desk")).get_json()
    assert body["gps"] == {"lon": pytest.approx(lon, abs=1e-7), "lat": pytest.approx(offset_north(lat, 50), abs=1e-7)}
    [check] = body["geotag"]
    assert check["entity"] == "enterprise" and check["entity_id"] == str(demo.retailer.id)
    assert check["gps"] == "present" and check["time"] == "present"
    assert check["distance_m_to_record"] == pytest.approx(50, abs=1)
    assert check["distance_m_to_enterprise"] == pytest.approx(50, abs=1)
    assert check["threshold_m"] == 300
    assert check["within_threshold"] is True
    assert check["window"] is None and check["taken_in_window"] is None  # an enterprise has no time window

    [check] = client.get(f"/api/v1/photos/{far}", headers=users("desk")).get_json()["geotag"]
    assert check["distance_m_to_record"] == pytest.approx(2000, abs=10)
    assert check["within_threshold"] is False


def test_missing_gps_and_time_are_reported_as_missing_not_as_failure(client, users, session, clock, demo, uploader):
    sha = upload(client, users("gridworker1"), images.png((64, 64)))
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha])
    body = client.get(f"/api/v1/photos/{sha}", headers=users("desk")).get_json()
    assert body["gps"] is None and body["taken_at"] is None
    [check] = body["geotag"]
    assert check["gps"] == "missing" and check["time"] == "missing"
    assert check["distance_m_to_record"] is None and check["distance_m_to_enterprise"] is None
    assert check["within_threshold"] is None and check["taken_in_window"] is None


@pytest.fixture
def visit_owner(monkeypatch, session, demo):
    """A record type registered the way the inspections package registers its own: one visit
    to the retailer, seen by whoever sees the retailer, checked in 200 m north of it, between
    09:00 and 10:00 Beijing time."""
    monkeypatch.setattr(access, "_OWNERS", dict(access._OWNERS))
    lon, lat = retailer_lonlat(session, demo)
    visit_id = uuid.uuid4()
    start = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)

    def visible_ids(principal):
        return select(literal(visit_id, Uuid())).where(
            exists().where(Enterprise.id == demo.retailer.id, principal.enterprise_filter(Enterprise))
        )

    def context(session, entity_id):
        if entity_id != visit_id:
            return None
        return PhotoContext(
            location=(lon, offset_north(lat, 200)),
            enterprise_id=demo.retailer.id,
            enterprise_location=(lon, lat),
            window=(start, start + timedelta(hours=1)),
        )

    register_photo_owner("visit", visible_ids, context)
    return visit_id


@pytest.mark.parametrize(
    "taken, in_window", [("2026:11:22 09:30:00", True), ("2026:11:22 10:30:00", False), ("2026:11:22 01:30:00", False)]
)
def test_geotag_check_against_a_record_with_location_and_time_window(
    client, users, session, clock, demo, visit_owner, taken, in_window, uploader
):
    lon, lat = retailer_lonlat(session, demo)
    sha = upload(client, users("gridworker1"), photo_at(lon, lat, taken=taken))
    name_photos(session, clock, uploader, "visit", visit_owner, [sha])
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha])

    checks = {c["entity"]: c for c in client.get(f"/api/v1/photos/{sha}", headers=users("desk")).get_json()["geotag"]}
    visit = checks["visit"]
    assert visit["entity_id"] == str(visit_owner)
    assert visit["distance_m_to_record"] == pytest.approx(200, abs=2)
    assert visit["distance_m_to_enterprise"] == pytest.approx(0, abs=0.5)
    assert visit["within_threshold"] is True  # the nearer reference decides
    assert visit["window"] == {"start": "2026-11-22T09:00:00+08:00", "end": "2026-11-22T10:00:00+08:00"}
    assert visit["taken_in_window"] is in_window
    assert checks["enterprise"]["taken_in_window"] is None
    # Outsiders see neither the photo nor, therefore, its checks.
    assert client.get(f"/api/v1/photos/{sha}", headers=users("gridworker3")).status_code == 404


def test_geotag_lists_only_records_the_caller_sees(client, users, session, clock, demo, uploader):
    sha = upload(client, users("gridworker1"), images.jpeg((320, 240), images.make_exif()))
    # An enterprise in gridworker3's grid, in the other town.
    other_town = session.scalar(
        select(Enterprise.id)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Region.path.descendant_of(demo.towns[1].path), Enterprise.grid_id == demo.grid_of["gridworker3"])
        .limit(1)
    )
    assert other_town is not None
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [sha])
    name_photos(session, clock, uploader, "enterprise", other_town, [sha])

    def seen_by(name: str) -> set[str]:
        body = client.get(f"/api/v1/photos/{sha}", headers=users(name)).get_json()
        return {check["entity_id"] for check in body["geotag"]}

    assert seen_by("gridworker1") == {str(demo.retailer.id)}
    assert seen_by("gridworker3") == {str(other_town)}
    assert seen_by("desk") == {str(demo.retailer.id), str(other_town)}
