"""A photo's hash is a name, not a key: naming a photo in one's own record shows it to the record's
viewers only when the namer uploaded it, could see it already, or proves its bytes; and a PUT to a
held name proves the bytes before it says anything about the photo."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from enterprises.models import Enterprise
from evidence.models import Photo
from tests.evidence import images
from tests.evidence.uploads import sha_of, statuses, upload


def report(client, headers, enterprise_id, photos) -> dict:
    response = client.post(
        "/api/v1/hazards",
        headers=headers,
        json={
            "id": str(uuid.uuid4()),
            "enterprise_id": str(enterprise_id),
            "level": "general",
            "description": "现场堆放杂物",
            "photos": photos,
            "found_at": "2026-11-22T08:00:00+08:00",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put(client, headers, sha, data, **extra):
    return client.put(f"/api/v1/photos/{sha}", data=data, headers={**headers, "Content-Type": "image/jpeg", **extra})


@pytest.fixture
def victim(client, users):
    """A photo with GPS, uploaded by the grid worker of another town and named by nothing yet."""
    data = images.jpeg((320, 240), images.make_exif())
    return upload(client, users("gridworker3"), data), data


def test_naming_another_users_photo_in_ones_own_record_shows_it_to_nobody(client, users, demo, victim):
    sha, _ = victim
    report(client, users("gridworker1"), demo.retailer.id, [sha])
    for name in ("gridworker1", "desk", "enterprise1"):
        assert statuses(client, users(name), sha) == [404, 404, 404], name
    assert statuses(client, users("gridworker3"), sha) == [200, 200, 200]


def test_a_photo_named_before_its_upload_is_shown_once_the_namer_uploads_it(client, users, demo):
    data = images.jpeg((200, 150), images.make_exif())
    sha = sha_of(data)
    assert report(client, users("gridworker1"), demo.retailer.id, [sha])["photos"] == [sha]
    upload(client, users("gridworker1"), data)
    for name in ("gridworker1", "desk", "enterprise1"):
        assert statuses(client, users(name), sha) == [200, 200, 200], name


def test_a_photo_the_namer_could_see_through_another_record_is_shown_through_the_new_one(client, users, demo, session):
    data = images.jpeg((200, 150), images.make_exif())
    sha = upload(client, users("gridworker1"), data)
    report(client, users("gridworker1"), demo.retailer.id, [sha])
    neighbour = session.scalar(select(Enterprise.id).where(Enterprise.grid_id == demo.grid_of["gridworker2"]).limit(1))
    assert statuses(client, users("gridworker2"), sha) == [404, 404, 404]
    # The inspector sees the first hazard, so may name its photo in a hazard of the neighbour's grid.
    report(client, users("inspector1"), neighbour, [sha])
    assert statuses(client, users("gridworker2"), sha) == [200, 200, 200]


def test_a_put_to_a_held_name_must_bring_the_bytes_of_that_name(client, users, victim, session):
    sha, data = victim
    other = images.jpeg((321, 240), images.make_exif())
    for extra in ({}, {"Content-Range": f"bytes 0-{len(other) - 1}/{len(other)}"}):
        response = put(client, users("gridworker1"), sha, other, **extra)
        assert response.status_code == 422, extra
        body = response.get_json()
        assert body["code"] == "photo.hash_mismatch"
        assert "width" not in body and "size_bytes" not in body
    response = put(client, users("gridworker1"), sha, data)
    assert response.status_code == 200
    assert response.get_json() == {
        "sha256": sha,
        "mime": "image/jpeg",
        "size_bytes": len(data),
        "width": 320,
        "height": 240,
    }
    # Already held: nothing written, the uploader stays who it was.
    assert session.scalar(select(Photo.uploaded_by).where(Photo.sha256 == sha)) == demo_user(session, "gridworker3")


def test_a_resumed_upload_of_a_held_photo_proves_the_bytes_at_its_last_part(client, users, victim):
    sha, data = victim
    half = len(data) // 2
    first = put(client, users("gridworker1"), sha, data[:half], **{"Content-Range": f"bytes 0-{half - 1}/{len(data)}"})
    assert first.status_code == 308
    last = put(
        client, users("gridworker1"), sha, data[half:], **{"Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"}
    )
    assert last.status_code == 200
    assert last.get_json()["sha256"] == sha


def test_proving_the_bytes_lets_the_namers_records_show_the_photo(client, users, demo, victim):
    sha, data = victim
    report(client, users("gridworker1"), demo.retailer.id, [sha])
    assert statuses(client, users("desk"), sha) == [404, 404, 404]
    assert put(client, users("gridworker1"), sha, data).status_code == 200
    for name in ("gridworker1", "desk", "enterprise1"):
        assert statuses(client, users(name), sha) == [200, 200, 200], name


def demo_user(session, username):
    from accounts.models import User

    return session.scalar(select(User.id).where(User.username == username))
