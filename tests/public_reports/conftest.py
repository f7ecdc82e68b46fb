"""Public reports with an easy proof-of-work (8 bits), solved as a browser would."""

import base64
import itertools

import pytest
from sqlalchemy import func, select

from public_reports.challenge import solves


@pytest.fixture
def settings(database_url, tmp_path):
    from config.settings import Settings

    return Settings.from_env(
        {}, database_url=database_url, testing=True, photo_root=str(tmp_path / "photos"), public_challenge_bits=8
    )


def solve(challenge: dict) -> str:
    return next(str(n) for n in itertools.count() if solves(challenge["challenge"], str(n), challenge["bits"]))


@pytest.fixture
def retailer_point(session, demo):
    from enterprises.models import Enterprise

    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == demo.retailer.id)
    ).one()
    return {"lon": lon, "lat": lat}


@pytest.fixture
def send_report(client, retailer_point):
    """``send_report(address=..., **fields)`` → the response of a complete, solved report."""

    def send(address="203.0.113.7", *, photos=(), solved=True, challenge=None, **fields):
        challenge = challenge or client.get("/api/v1/public/challenge").get_json()
        body = {
            "challenge": challenge["challenge"],
            "nonce": solve(challenge) if solved else "0",
            "what": "某小区地下室私存大量烟花爆竹",
            "place": "青石镇老街 12 号",
            "location": retailer_point,
            "photos": [base64.b64encode(p).decode() for p in photos],
        }
        body.update(fields)
        return client.post("/api/v1/public/reports", json=body, environ_base={"REMOTE_ADDR": address})

    return send
