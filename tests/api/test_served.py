"""The API as ``make run`` serves it — gunicorn (config/gunicorn.py) importing wsgi.py, settings from the
environment with their defaults — and as phones talk to it: over persistent connections."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import uuid
from urllib.parse import urlsplit

import pytest
from PIL import Image

# Past gunicorn's own drain of an unread body (64 KiB): what a photo or a batch is.
BIG = 200 * 1024


def noisy_jpeg(side: int, seed: int) -> bytes:
    """A JPEG that noise keeps larger than ``BIG``; ``seed`` makes each one different."""
    img = Image.merge("RGB", [Image.effect_noise((side, side), 40 + seed) for _ in range(3)])
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    data = out.getvalue()
    assert len(data) > BIG
    return data


def connect(served) -> http.client.HTTPConnection:
    parts = urlsplit(served.base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def ask(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.headers, response.read()


def login(served, username: str = "gridworker1") -> dict:
    conn = connect(served)
    try:
        status, _, body = ask(
            conn,
            "POST",
            "/api/v1/auth/login",
            json.dumps(
                {
                    "username": username,
                    "password": "anxun-demo",
                    "device": {"id": f"served-{username}-{uuid.uuid4().hex[:8]}"},
                }
            ).encode(),
            {"Content-Type": "application/json"},
        )
    finally:
        conn.close()
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


def put_photo(served, headers: dict, data: bytes) -> tuple[int, bytes]:
    conn = connect(served)
    try:
        status, _, body = ask(
            conn,
            "PUT",
            f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}",
            data,
            {**headers, "Content-Type": "image/jpeg"},
        )
        return status, body
    finally:
        conn.close()


def test_photos_are_stored_and_served_with_the_default_relative_photo_root(served):
    """make run leaves ANXUN_PHOTO_ROOT at its default, the relative ``var/photos``: photos are written
    under the working directory and read back from there (they answered 500 when send_file resolved the
    relative path against the api package instead)."""
    headers = login(served)
    data = noisy_jpeg(500, 0)
    sha = hashlib.sha256(data).hexdigest()
    status, body = put_photo(served, headers, data)
    assert status == 201, body
    assert (served.workdir / "var" / "photos" / "originals" / sha[:2] / sha[2:4] / sha).read_bytes() == data

    conn = connect(served)
    try:
        status, response_headers, original = ask(conn, "GET", f"/api/v1/photos/{sha}/original", headers=headers)
        assert status == 200 and original == data
        assert response_headers["Content-Type"] == "image/jpeg"
        status, response_headers, thumb = ask(conn, "GET", f"/api/v1/photos/{sha}/thumb", headers=headers)
        assert status == 200 and response_headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(thumb)).size == (500, 500)
    finally:
        conn.close()


def _cases(served) -> list[tuple[str, int, str, str, bytes, dict]]:
    """(name, expected status, method, path, body, headers): every answer that may come before the body
    has been read, each with a body of more than 64 KiB."""
    user = login(served)
    revoked = login(served)
    conn = connect(served)
    try:
        assert ask(conn, "POST", "/api/v1/auth/logout", headers=revoked)[0] == 204
    finally:
        conn.close()
    held = noisy_jpeg(500, 1)
    assert put_photo(served, user, held)[0] == 201
    junk = bytes(range(256)) * (BIG // 256)
    some_sha = hashlib.sha256(b"a photo nobody sent").hexdigest()
    json_body = json.dumps({"username": "x", "padding": "y" * BIG}).encode()
    image = {"Content-Type": "image/jpeg"}
    return [
        (
            "repeat PUT of a held photo",
            200,
            "PUT",
            f"/api/v1/photos/{hashlib.sha256(held).hexdigest()}",
            held,
            {**user, **image},
        ),
        ("no token", 401, "PUT", f"/api/v1/photos/{some_sha}", junk, image),
        ("forged token", 401, "PUT", f"/api/v1/photos/{some_sha}", junk, {"Authorization": "Bearer forged", **image}),
        ("revoked token", 401, "PUT", f"/api/v1/photos/{some_sha}", junk, {**revoked, **image}),
        ("role not allowed", 403, "DELETE", "/api/v1/devices/somebodys-phone", junk, user),
        ("unknown path", 404, "POST", "/api/v1/no-such-thing", junk, user),
        ("method not allowed", 405, "POST", "/api/v1/health", junk, user),
        (
            "Content-Range total past the limit",
            413,
            "PUT",
            f"/api/v1/photos/{some_sha}",
            junk,
            {**user, **image, "Content-Range": f"bytes 0-{len(junk) - 1}/{10**11}"},
        ),
        ("bad sha", 422, "PUT", "/api/v1/photos/not-a-sha", junk, {**user, **image}),
        (
            "bad Content-Range",
            422,
            "PUT",
            f"/api/v1/photos/{some_sha}",
            junk,
            {**user, **image, "Content-Range": "bytes garbage"},
        ),
        (
            "Content-Range not matching the body",
            422,
            "PUT",
            f"/api/v1/photos/{some_sha}",
            junk,
            {**user, **image, "Content-Range": "bytes 0-9/100"},
        ),
        ("JSON sent as text/plain", 422, "POST", "/api/v1/auth/login", json_body, {"Content-Type": "text/plain"}),
        (
            "unknown Content-Encoding",
            400,
            "POST",
            "/api/v1/sync/push",
            junk,
            {**user, "Content-Type": "application/json", "Content-Encoding": "br"},
        ),
        ("logout with a body", 204, "POST", "/api/v1/auth/logout", junk, login(served)),
    ]


def test_an_answer_given_before_the_body_is_read_leaves_the_connection_usable(served):
    """A phone sends its requests one after another over one connection. Whatever the server answers
    without reading what was sent, the next request on that connection must get its answer."""
    failures = []
    for name, expected, method, path, body, headers in _cases(served):
        conn = connect(served)
        try:
            status, response_headers, _ = ask(conn, method, path, body, headers)
            assert status == expected, (name, status)
            kept = response_headers.get("Connection", "").lower() != "close"
            local = conn.sock.getsockname() if kept else None
            try:
                after, _, _ = ask(conn, "GET", "/api/v1/health")
            except (ConnectionError, http.client.HTTPException) as err:
                failures.append(f"{name}: the next request got no answer ({err!r})")
                continue
            assert after == 200, name
            if kept:
                assert conn.sock.getsockname() == local, f"{name}: answered keep-alive, then closed"
        finally:
            conn.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("body_size", [0, BIG])
def test_several_requests_go_over_one_connection(served, body_size):
    headers = login(served)
    conn = connect(served)
    try:
        status, _, _ = ask(conn, "GET", "/api/v1/health")
        local = conn.sock.getsockname()
        for _ in range(3):
            status, _, _ = ask(
                conn, "POST", "/api/v1/auth/logout", b"x" * body_size, {"Authorization": "Bearer forged"}
            )
            assert status == 401
            assert ask(conn, "GET", "/api/v1/sync/config", headers=headers)[0] == 200
        assert conn.sock.getsockname() == local
    finally:
        conn.close()
