"""PUT/HEAD/GET /photos/{sha256}: content-addressed, idempotent, resumable uploads of real
images made in the tests; refused uploads store nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from audit.models import AuditEntry
from evidence.models import Photo
from tests.evidence import images
from tests.evidence.uploads import sha_of

LON, LAT = images.LON, images.LAT


def put(client, headers, data: bytes, sha: str | None = None, **kwargs):
    return client.put(f"/api/v1/photos/{sha or sha_of(data)}", data=data, headers=headers, **kwargs)


def put_part(client, headers, data: bytes, start: int, end: int, sha: str | None = None, **kwargs):
    return client.put(
        f"/api/v1/photos/{sha or sha_of(data)}",
        data=data[start : end + 1],
        headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"},
        **kwargs,
    )


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def store(app):
    return app.extensions["anxun"].photo_store


@pytest.fixture
def worker(login):
    return login("gridworker1")


@pytest.fixture(scope="module")
def exif_jpeg() -> bytes:
    return images.jpeg((800, 600), images.make_exif(offset="+08:00"))


# --------------------------------------------------------------------------- storing


def test_jpeg_with_exif_gps_and_time_is_stored_with_metadata(client, worker, session, store, exif_jpeg, demo):
    sha = sha_of(exif_jpeg)
    response = put(client, worker, exif_jpeg, content_type="image/jpeg")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["sha256"] == sha
    assert body["mime"] == "image/jpeg"
    assert body["size_bytes"] == len(exif_jpeg)
    assert (body["width"], body["height"], body["orientation"]) == (800, 600, 1)
    assert body["gps"] == {"lon": pytest.approx(LON, abs=1e-7), "lat": pytest.approx(LAT, abs=1e-7)}
    assert body["altitude_m"] == pytest.approx(321.5)
    assert body["taken_at"] == "2024-05-06T09:30:15+08:00"
    assert body["camera"] == "HUAWEI P40"
    assert body["uploaded_by"] == {"id": str(demo.users["gridworker1"].id), "name": demo.users["gridworker1"].name}
    assert body["uploaded_from"].startswith("test-gridworker1-")
    assert body["geotag"] == []  # no record names it yet
    assert body["thumb_url"] == f"/api/v1/photos/{sha}/thumb"

    # Stored as a PostGIS point in WGS-84, once, with its files.
    srid, lon, lat = session.execute(
        select(func.ST_SRID(Photo.gps), func.ST_X(Photo.gps), func.ST_Y(Photo.gps)).where(Photo.sha256 == sha)
    ).one()
    assert srid == 4326 and lon == pytest.approx(LON, abs=1e-7) and lat == pytest.approx(LAT, abs=1e-7)
    assert store.read(sha) == exif_jpeg
    assert store.has(sha, "thumb")
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "photo", AuditEntry.entity_id == sha, AuditEntry.action == "upload")
        )
        == 1
    )
    # Nothing left in the staging area.
    assert not [p for p in files_under(store.staging_dir) if p.suffix == ".tmp"]


def test_uploading_a_held_photo_again_answers_200_and_writes_nothing(client, worker, login, session, store, exif_jpeg):
    sha = sha_of(exif_jpeg)
    assert put(client, worker, exif_jpeg).status_code == 201
    original = store.path(sha)
    before = (original.stat().st_mtime_ns, original.stat().st_ino, files_under(store.root))

    again = put(client, worker, exif_jpeg)
    assert again.status_code == 200
    assert again.get_json()["sha256"] == sha and again.get_json()["gps"] is not None
    # "Held" is said only to the bytes of the name (the other photo tests: test_photo_grants.py).
    assert put(client, worker, b"not the photo", sha=sha).status_code == 422
    # Another user holding the same bytes learns it is held, but not who uploaded it.
    other = put(client, login("gridworker3"), exif_jpeg)
    assert other.status_code == 200
    assert set(other.get_json()) == {"sha256", "mime", "size_bytes", "width", "height"}

    assert (original.stat().st_mtime_ns, original.stat().st_ino, files_under(store.root)) == before
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha)) == 1
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "photo", AuditEntry.entity_id == sha)
        )
        == 1
    )


def test_png_is_stored(client, worker):
    data = images.png((640, 480))
    response = put(client, worker, data, content_type="image/png")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mime"] == "image/png"
    assert (body["width"], body["height"]) == (640, 480)
    assert body["gps"] is None and body["taken_at"] is None


def test_heic_is_stored_with_its_exif(client, worker, store):
    data = images.heic((640, 480), images.make_exif())
    # Phones often send HEIC as octet-stream: the type comes from decoding, not the header.
    response = put(client, worker, data, content_type="application/octet-stream")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mime"] == "image/heic"
    assert body["gps"] == {"lon": pytest.approx(LON, abs=1e-6), "lat": pytest.approx(LAT, abs=1e-6)}
    assert body["taken_at"] == "2024-05-06T09:30:15+08:00"
    thumb = Image.open(io.BytesIO(store.read(body["sha256"], "thumb")))
    assert thumb.format == "JPEG" and max(thumb.size) <= 512


@pytest.mark.parametrize(
    "data, kwargs, status, code",
    [
        pytest.param(
            images.truncated_jpeg(), {"content_type": "image/jpeg"}, 415, "photo.unsupported", id="truncated-jpeg"
        ),
        pytest.param(
            images.text_file(),
            {"content_type": "image/jpeg", "headers": {"Content-Disposition": 'attachment; filename="现场.jpg"'}},
            415,
            "photo.unsupported",
            id="text-named-jpg",
        ),
        pytest.param(
            b"\xff\xd8\xff\xe0" + images.text_file(),
            {"content_type": "image/jpeg"},
            415,
            "photo.unsupported",
            id="jpeg-magic-then-text",
        ),
        pytest.param(
            images.png_pixel_bomb(), {"content_type": "image/png"}, 413, "photo.too_many_pixels", id="png-pixel-bomb"
        ),
        pytest.param(
            images.jpeg_header_bomb(),
            {"content_type": "image/jpeg"},
            413,
            "photo.too_many_pixels",
            id="jpeg-header-bomb",
        ),
    ],
)
def test_refused_uploads_store_nothing(client, worker, session, store, data, kwargs, status, code):
    headers = {**worker, **kwargs.pop("headers", {})}
    response = put(client, headers, data, **kwargs)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha_of(data))) == 0
    assert files_under(store.root / "originals") == [] and files_under(store.root / "thumbs") == []
    assert not [p for p in files_under(store.staging_dir) if p.suffix == ".tmp"]


def test_hash_mismatch(client, worker, session, store, exif_jpeg):
    wrong = sha_of(b"something else")
    response = put(client, worker, exif_jpeg, sha=wrong)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "photo.hash_mismatch"
    assert body["expected"] == wrong and body["actual"] == sha_of(exif_jpeg)
    assert session.get(Photo, wrong) is None
    assert files_under(store.root / "originals") == []


@pytest.mark.parametrize("name", ["abc", "A" * 64, "g" * 64, "../" + "a" * 61])
def test_names_must_be_lowercase_sha256(client, worker, name):
    response = client.put(f"/api/v1/photos/{name}", data=b"x", headers=worker)
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert response.get_json()["code"] == "photo.invalid_sha256"


def test_upload_needs_a_login(client, exif_jpeg):
    assert put(client, {}, exif_jpeg).status_code == 401


# --------------------------------------------------------------------------- size limit


class _Body(io.RawIOBase):
    """A request body the test client hands over as it is (it must seem seekable)."""

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0

    def tell(self):
        return 0


class _Unreadable(_Body):
    """A body that must not be read."""

    def readinto(self, b):
        raise AssertionError("the body was read although Content-Length was over the limit")


@pytest.fixture
def small(settings, session_factory, clock):
    """An app whose photo limit is 64 KiB, and a login on it."""
    from api.app import create_app

    app = create_app(settings.replace(max_photo_bytes=64 * 1024), session_factory=session_factory, clock=clock)
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/login",
        json={
            "username": "gridworker1",
            "password": "anxun-demo",
            "device": {"id": "test-small-limit", "name": "pytest", "platform": "android", "app_version": "1"},
        },
    )
    return client, {"Authorization": f"Bearer {response.get_json()['token']}"}, app.extensions["anxun"].photo_store


def big_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 80).convert("RGB").save(out, "JPEG", quality=100)
    data = out.getvalue()
    assert len(data) > 64 * 1024
    return data


class _Zeros(_Body):
    """A body of zeros that counts what is read of it."""

    def __init__(self):
        self.read_bytes = 0

    def readinto(self, b):
        self.read_bytes += len(b)
        b[:] = bytes(len(b))
        return len(b)


def test_declared_length_over_the_limit_is_refused_before_storing_anything(small):
    client, headers, store = small
    body = _Zeros()
    response = client.put(
        f"/api/v1/photos/{'a' * 64}",
        headers=headers,
        input_stream=body,
        environ_overrides={"CONTENT_LENGTH": str(64 * 1024 + 1)},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "photo.too_large"
    assert response.get_json()["max_bytes"] == 64 * 1024
    assert files_under(store.root) == []
    # Read to its end and dropped (api/keepalive.py), so the connection stays usable for the next request.
    assert body.read_bytes == 64 * 1024 + 1


def test_declared_length_past_the_app_wide_limit_gets_the_photo_code_and_is_not_read(client, worker):
    response = client.put(
        f"/api/v1/photos/{'a' * 64}",
        headers=worker,
        input_stream=_Unreadable(),
        environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "photo.too_large"
    assert response.get_json()["max_bytes"] == 20 * 1024 * 1024


def test_streamed_body_over_the_limit_is_refused_while_reading(small):
    client, headers, store = small
    data = big_jpeg()
    # Chunked transfer: no Content-Length, so only counting the bytes can stop it.
    response = client.put(
        f"/api/v1/photos/{sha_of(data)}",
        headers=headers,
        input_stream=io.BytesIO(data),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "photo.too_large"
    assert files_under(store.root) == []


def test_chunked_body_within_the_limit_is_stored(small):
    client, headers, store = small
    data = images.jpeg((320, 240), images.make_exif())
    response = client.put(
        f"/api/v1/photos/{sha_of(data)}",
        headers=headers,
        input_stream=io.BytesIO(data),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 201, response.get_json()


def test_resumable_upload_announcing_too_large_a_total_is_refused(small):
    client, headers, store = small
    data = big_jpeg()
    response = put_part(client, headers, data, 0, 1023)
    assert response.status_code == 413
    assert response.get_json()["code"] == "photo.too_large"
    assert store.received(sha_of(data)) is None


# --------------------------------------------------------------------------- resumable


def _range(response) -> int:
    """The last byte the server says it holds."""
    header = response.headers["Range"]
    assert header.startswith("bytes=0-"), header
    return int(header.removeprefix("bytes=0-"))


def test_three_part_upload_with_a_broken_connection_between_parts(client, worker, session, store):
    data = images.jpeg((1600, 1200), images.make_exif(), quality=95)
    sha, total = sha_of(data), len(data)
    a, b = total // 3, 2 * total // 3

    first = put_part(client, worker, data, 0, a - 1)
    assert first.status_code == 308
    assert _range(first) == a - 1
    assert first.get_json() == {"sha256": sha, "received": a, "total": total}
    head = client.head(f"/api/v1/photos/{sha}", headers=worker)
    assert head.status_code == 308 and _range(head) == a - 1

    # The second part: the connection drops after half of it (Content-Length says more).
    half = (b - a) // 2
    broken = client.put(
        f"/api/v1/photos/{sha}",
        data=data[a : a + half],
        headers={**worker, "Content-Range": f"bytes {a}-{b - 1}/{total}"},
        environ_overrides={"CONTENT_LENGTH": str(b - a)},
    )
    assert broken.status_code == 400
    # What came through is kept: resume from there, not from the start of the part.
    head = client.head(f"/api/v1/photos/{sha}", headers=worker)
    assert head.status_code == 308
    resume_at = _range(head) + 1
    assert resume_at == a + half

    second = put_part(client, worker, data, resume_at, b - 1)
    assert second.status_code == 308 and _range(second) == b - 1
    # A part arriving twice is harmless.
    repeated = put_part(client, worker, data, 0, a - 1)
    assert repeated.status_code == 308 and _range(repeated) == b - 1

    last = put_part(client, worker, data, b, total - 1)
    assert last.status_code == 201, last.get_json()
    assert last.get_json()["gps"]["lon"] == pytest.approx(LON, abs=1e-7)
    assert client.head(f"/api/v1/photos/{sha}", headers=worker).status_code == 200
    assert store.read(sha) == data
    assert store.received(sha) is None
    assert [p for p in files_under(store.staging_dir)] == []
    # Once held, a part is not yet proof of the bytes: it is kept aside like any part (the held photo is
    # untouched) until the last one shows the whole hashes to the name (test_photo_grants.py).
    assert put_part(client, worker, data, 0, a - 1).status_code == 308
    assert store.read(sha) == data


def test_single_part_covering_the_whole_file(client, worker):
    data = images.png((64, 64))
    response = put_part(client, worker, data, 0, len(data) - 1)
    assert response.status_code == 201


def test_part_past_what_is_held_is_a_gap(client, worker):
    data = images.jpeg((640, 480))
    response = put_part(client, worker, data, 1000, 1999)
    assert response.status_code == 409
    assert response.get_json()["code"] == "photo.range_gap"
    assert response.get_json()["received"] == 0


@pytest.mark.parametrize(
    "content_range",
    ["bytes 0-99", "bytes=0-99/1000", "bytes 100-99/1000", "bytes 0-1000/1000", "items 0-9/10", "bytes */1000"],
)
def test_invalid_content_range(client, worker, content_range):
    response = client.put(
        f"/api/v1/photos/{'b' * 64}", data=b"x" * 100, headers={**worker, "Content-Range": content_range}
    )
    assert response.status_code == 422, content_range
    assert response.get_json()["code"] == "photo.range_invalid"


def test_content_length_must_match_the_range(client, worker):
    response = client.put(
        f"/api/v1/photos/{'b' * 64}", data=b"x" * 50, headers={**worker, "Content-Range": "bytes 0-99/1000"}
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "photo.range_invalid"


def test_total_may_not_change_during_an_upload(client, worker):
    data = images.jpeg((640, 480))
    assert put_part(client, worker, data, 0, 99).status_code == 308
    response = client.put(
        f"/api/v1/photos/{sha_of(data)}",
        data=data[100:200],
        headers={**worker, "Content-Range": f"bytes 100-199/{len(data) + 1}"},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "photo.range_invalid"


def test_resumable_upload_with_wrong_hash_is_discarded(client, worker, store):
    data = images.jpeg((640, 480))
    wrong = sha_of(b"not these bytes")
    half = len(data) // 2
    assert put_part(client, worker, data, 0, half - 1, sha=wrong).status_code == 308
    last = put_part(client, worker, data, half, len(data) - 1, sha=wrong)
    assert last.status_code == 422
    assert last.get_json()["code"] == "photo.hash_mismatch"
    # The client starts again from zero.
    assert client.head(f"/api/v1/photos/{wrong}", headers=worker).status_code == 404
    assert files_under(store.root) == []


def test_resumable_upload_of_a_text_file_is_refused_at_the_end(client, worker, store):
    data = images.text_file()
    half = len(data) // 2
    assert put_part(client, worker, data, 0, half - 1).status_code == 308
    last = put_part(client, worker, data, half, len(data) - 1)
    assert last.status_code == 415
    assert client.head(f"/api/v1/photos/{sha_of(data)}", headers=worker).status_code == 404
    assert files_under(store.root) == []


def test_head_of_an_unknown_photo(client, worker):
    assert client.head(f"/api/v1/photos/{'c' * 64}", headers=worker).status_code == 404


# --------------------------------------------------------------------------- reading back


def test_thumbnail_and_original(client, worker, store):
    # Turned on its side by EXIF: 800x600 stored, 600x800 displayed.
    data = images.jpeg((800, 600), images.make_exif(orientation=6))
    sha = sha_of(data)
    assert put(client, worker, data).status_code == 201

    thumb = client.get(f"/api/v1/photos/{sha}/thumb", headers=worker)
    assert thumb.status_code == 200
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["ETag"] == f'"{sha}"'
    assert "private" in thumb.headers["Cache-Control"] and "public" not in thumb.headers["Cache-Control"]
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    img = Image.open(io.BytesIO(thumb.data))
    assert img.format == "JPEG"
    assert img.size == (384, 512)  # upright, longest side 512
    # The red corner of the picture: after turning, top-right.
    r, g, b = img.convert("RGB").getpixel((img.width - 5, 5))
    assert r > 200 and b < 60
    thumb.close()

    cached = client.get(f"/api/v1/photos/{sha}/thumb", headers={**worker, "If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304
    cached.close()

    original = client.get(f"/api/v1/photos/{sha}/original", headers=worker)
    assert original.status_code == 200
    assert original.mimetype == "image/jpeg"
    assert original.data == data
    assert original.headers["ETag"] == f'"{sha}"'
    original.close()

    meta = client.get(f"/api/v1/photos/{sha}", headers=worker).get_json()
    assert (meta["width"], meta["height"], meta["orientation"]) == (600, 800, 6)


def test_png_original_keeps_its_type(client, worker):
    data = images.png((100, 80))
    sha = sha_of(data)
    assert put(client, worker, data).status_code == 201
    original = client.get(f"/api/v1/photos/{sha}/original", headers=worker)
    assert original.mimetype == "image/png" and original.data == data
    original.close()


def test_lost_file_is_healed_by_the_next_upload(client, worker, store, exif_jpeg):
    sha = sha_of(exif_jpeg)
    assert put(client, worker, exif_jpeg).status_code == 201
    store.delete(sha, "original")
    assert client.head(f"/api/v1/photos/{sha}", headers=worker).status_code == 404
    missing = client.get(f"/api/v1/photos/{sha}/original", headers=worker)
    assert missing.status_code == 404
    again = put(client, worker, exif_jpeg)
    assert again.status_code == 200  # the row was there: not a new photo
    assert store.read(sha) == exif_jpeg


def test_openapi_documents_the_photo_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"put", "head", "get"} <= set(paths["/api/v1/photos/{sha256}"])
    assert "get" in paths["/api/v1/photos/{sha256}/thumb"]
    assert "get" in paths["/api/v1/photos/{sha256}/original"]
