"""Decoding photos within a memory budget, measured where it matters: the resident memory of a
gunicorn worker started as ``make run`` starts it (tracemalloc does not see Pillow's C allocations)."""

from __future__ import annotations

import functools
import hashlib
import http.client
import io
import json
import threading
from urllib.parse import urlsplit

import pytest
from PIL import Image

from api.app import create_app


MIB = 1024 * 1024
# 8000 × 7999 = 63,992,000 pixels: under the 64 MP pixel limit.
SIDE = (8000, 7999)


@functools.lru_cache(maxsize=None)
def flat_png(mode: str, seed: int) -> bytes:
    """A flat picture of 64 MP that compresses to a few hundred KB; ``seed`` marks one pixel, so each is
    another photo."""
    img = Image.new(mode, SIDE, "red" if mode != "L" else 90)
    img.putpixel((seed, seed), (seed % 256, 0, 0, 255)[: len(mode)] if mode != "L" else seed % 256)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def flat_jpeg(progressive: bool) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", SIDE, "red").save(out, "JPEG", quality=90, progressive=progressive)
    return out.getvalue()


def test_four_large_pngs_at_once_stay_within_the_decode_budget_and_the_memory_is_given_back(served):
    """The issue's case: a 250 KB RGBA PNG of 8000×7999 took a worker from 175 MB to 1.2 GB, four at
    once peaked at 3 GB and the worker stayed at 2.5 GB."""
    conn = _connection(served)
    conn.request(
        "POST",
        "/api/v1/auth/login",
        json.dumps({"username": "gridworker1", "password": "anxun-demo", "device": {"id": "memory-test"}}),
        {"Content-Type": "application/json"},
    )
    token = json.loads(conn.getresponse().read())["token"]
    conn.close()
    photos = [flat_png("RGBA", seed) for seed in range(4)]
    (worker,) = served.worker_pids()
    assert served.reset_peaks()
    before = served.memory()[worker]

    statuses: list[int] = []

    def upload(data: bytes) -> None:
        conn = _connection(served)
        try:
            conn.request(
                "PUT",
                f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}",
                data,
                {"Authorization": f"Bearer {token}", "Content-Type": "image/png"},
            )
            statuses.append(conn.getresponse().status)
        finally:
            conn.close()

    threads = [threading.Thread(target=upload, args=(data,)) for data in photos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    after = served.memory()[worker]
    assert statuses == [201] * 4
    budget = 512 * MIB
    grew = (after["peak_mb"] - before["rss_mb"]) * MIB
    assert grew < budget + 96 * MIB, f"peak grew by {grew / MIB:.0f} MiB past the {budget / MIB:.0f} MiB budget"
    kept = (after["rss_mb"] - before["rss_mb"]) * MIB
    assert kept < 96 * MIB, f"the worker kept {kept / MIB:.0f} MiB after the decodes"


def _connection(served) -> http.client.HTTPConnection:
    parts = urlsplit(served.base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)


@pytest.fixture
def tight(settings, session_factory, clock, tmp_path):
    """An app allowed 64 MiB of decoding at once, and a login on it."""
    app = create_app(settings.replace(max_decode_bytes=64 * MIB), session_factory=session_factory, clock=clock)
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/login",
        json={"username": "gridworker1", "password": "anxun-demo", "device": {"id": "memory-tight"}},
    )
    return client, {"Authorization": f"Bearer {response.get_json()['token']}"}, app.extensions["anxun"].photo_store


def _put(client, headers, data: bytes, mime: str):
    return client.put(
        f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}", data=data, headers={**headers, "Content-Type": mime}
    )


def test_a_png_whose_decode_needs_more_than_the_budget_is_refused_before_decoding(tight):
    """PNG cannot be decoded at reduced scale: 64 MP of RGB is 244 MiB of pixels, refused by its header."""
    client, headers, store = tight
    data = flat_png("RGB", 0)
    response = _put(client, headers, data, "image/png")
    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == "photo.too_large_to_decode"
    assert body["decode_bytes"] == SIDE[0] * SIDE[1] * 4 and body["max_decode_bytes"] == 64 * MIB
    assert not store.has(hashlib.sha256(data).hexdigest())


def test_a_64_megapixel_jpeg_is_decoded_at_reduced_scale_within_a_small_budget(tight):
    client, headers, _ = tight
    response = _put(client, headers, flat_jpeg(progressive=False), "image/jpeg")
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["width"], response.get_json()["height"]) == SIDE


def test_a_progressive_jpeg_counts_the_coefficients_it_must_keep(tight):
    """A progressive JPEG keeps every DCT coefficient of the full-size picture however small it is drawn:
    2 bytes × (64 MP of luma + two quarter-size chroma planes) ≈ 183 MiB."""
    client, headers, _ = tight
    response = _put(client, headers, flat_jpeg(progressive=True), "image/jpeg")
    assert response.status_code == 413
    assert response.get_json()["code"] == "photo.too_large_to_decode"
