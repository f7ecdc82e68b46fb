"""Answers are compressed when the client accepts it (Flask-Compress): JSON, GeoJSON and the sync
pull; never bodies that are compressed already (the xlsx ledger, JPEG photos), never without asking."""

import gzip
import json

import pytest

from tests.evidence import images
from tests.evidence.uploads import upload

JSON_ANSWERS = [
    "/api/v1/enterprises?per_page=50",
    "/api/v1/grids",
    "/api/v1/people",
    "/api/v1/sync/pull",
    "/api/v1/openapi.json",
]


@pytest.mark.parametrize("path", JSON_ANSWERS)
def test_json_answers_are_gzipped_when_accepted_and_decompress_to_the_same_json(client, login, path):
    desk = login("desk")
    plain = client.get(path, headers={**desk, "Accept-Encoding": "identity"})
    packed = client.get(path, headers={**desk, "Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    unpacked, expected = json.loads(gzip.decompress(packed.data)), plain.get_json()
    if path.endswith("/sync/pull"):  # each pull answer carries its own server_time
        unpacked.pop("server_time", None), expected.pop("server_time", None)
    assert unpacked == expected


def test_without_accept_encoding_the_answer_is_identity(client, login):
    response = client.get("/api/v1/enterprises?per_page=50", headers=login("desk"))
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["items"]


def test_the_geojson_risk_map_is_gzipped(client, login, demo):
    response = client.get(
        f"/api/v1/reports/riskmap.geojson?region={demo.towns[0].code}",
        headers={**login("desk"), "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["type"] == "FeatureCollection"


def test_already_compressed_bodies_are_sent_as_they_are(client, login):
    desk = {**login("desk"), "Accept-Encoding": "gzip"}
    ledger = client.get("/api/v1/hazards/export.xlsx", headers=desk)
    assert ledger.status_code == 200 and "Content-Encoding" not in ledger.headers
    assert ledger.data[:2] == b"PK"
    worker = login("gridworker1")
    sha = upload(client, worker, images.jpeg(exif=images.make_exif()))
    photo = client.get(f"/api/v1/photos/{sha}/original", headers={**worker, "Accept-Encoding": "gzip"})
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "Content-Encoding" not in photo.headers and photo.data[:2] == b"\xff\xd8"
