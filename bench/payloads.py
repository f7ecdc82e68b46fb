"""What phones push, built from the benchmark database: realistic inspections (every applicable item of
the enterprise's checklist answered, 8–56 answers; one in ten with failed items and their photos) and
grid patrols (a GPS track, 3–8 enterprises visited), in GCJ-02 as Chinese map SDKs report them.

The same ideas as tests/sync/payloads.py, built for volume: the checklist versions are loaded once,
not per change."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import psycopg2

from bench.dataset import dsn, phone_usernames, token_for

SHANGHAI = timezone(timedelta(hours=8))
INSPECTION_SHARE = 0.85  # the rest are patrols


@dataclass
class Enterprise:
    id: str
    industry: str
    subtype: str
    lon: float
    lat: float
    grid_id: str


@dataclass
class Phone:
    username: str
    user_id: str
    token: str
    device: str
    grids: list[str]
    enterprises: list[Enterprise]
    by_grid: dict[str, list[Enterprise]] = field(default_factory=dict)


def load_phones(bench_url: str, sizes, count: int) -> list[Phone]:
    """``count`` grid workers spread over the county, with their grids and enterprises."""
    names = phone_usernames(sizes, count)
    conn = psycopg2.connect(dsn(bench_url))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                SELECT u.username, u.id::text, a.grid_id::text, e.id::text, e.industry, e.subtype,
                       ST_X(e.location), ST_Y(e.location)
                  FROM users u
                  JOIN grid_assignments a ON a.user_id = u.id AND a.ended_at IS NULL
                  LEFT JOIN enterprises e ON e.grid_id = a.grid_id
                 WHERE u.username = ANY(%s)
                 ORDER BY u.username, a.grid_id, e.uscc""",
                (names,),
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    phones: dict[str, Phone] = {}
    for username, user_id, grid_id, ent_id, industry, subtype, lon, lat in rows:
        phone = phones.setdefault(username, Phone(username, user_id, token_for(username), f"bench-{username}", [], []))
        if grid_id not in phone.by_grid:
            phone.grids.append(grid_id)
            phone.by_grid[grid_id] = []
        if ent_id:
            enterprise = Enterprise(ent_id, industry, subtype, lon, lat, grid_id)
            phone.enterprises.append(enterprise)
            phone.by_grid[grid_id].append(enterprise)
    # The same worker may stand behind several phones at small scales: one phone each, in order.
    return [phones[name] for name in names if name in phones]


def load_templates(bench_url: str) -> dict[str, object]:
    """(industry, subtype) -> the latest published checklist Template for it (subtypes repeat across industries)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from checklists.service import list_latest, template_for_inspection
    from enterprises.models import INDUSTRIES

    engine = create_engine(bench_url)
    out = {}
    with Session(engine) as session:
        for industry in INDUSTRIES:
            for row in list_latest(session, industry=industry):
                template = template_for_inspection(session, row["code"], row["version"])
                for subtype in template.subtypes:
                    out.setdefault((industry, subtype), template)
    engine.dispose()
    return out


def _sha(rng: random.Random) -> str:
    return "%064x" % rng.getrandbits(256)


def _stamp(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    from geo.coords import from_wgs84

    return from_wgs84(lon, lat, "gcj02")


def _near(rng: random.Random, lon: float, lat: float, metres: float) -> tuple[float, float]:
    return lon + rng.uniform(-metres, metres) / 96_000, lat + rng.uniform(-metres, metres) / 111_000


def answers(template, subtype: str, rng: random.Random, fail: int = 0) -> list[dict]:
    items = [i for i in template.items if i.applies_to(subtype)]
    failing = set(i.code for i in rng.sample(items, min(fail, len(items))))
    out = []
    for item in items:
        answer = {"item": item.code, "result": "pass", "value": None, "note": "", "photos": []}
        spec = item.answer
        if spec.type == "number":
            low = spec.min if spec.min is not None else 0
            answer["value"] = low if spec.max is None else (low + spec.max) / 2
        elif spec.type == "choice":
            answer["value"] = next(o.value for o in spec.options if not o.fails)
        if item.code in failing:
            answer.update(result="fail", note="现场发现问题，已拍照", photos=[_sha(rng)])
        out.append(answer)
    return out


def inspection_change(
    phone: Phone, enterprise: Enterprise, template, rng: random.Random, now: datetime, *, remarks_bytes: int = 0
) -> dict:
    started = now - timedelta(minutes=rng.randrange(30, 600))
    fail = rng.choice((1, 2)) if rng.random() < 0.1 else 0
    lon, lat = _gcj(*_near(rng, enterprise.lon, enterprise.lat, 40))
    return {
        "entity": "inspection",
        "op": "create",
        "id": str(uuid.uuid4()),
        "recorded_at": _stamp(started),
        "data": {
            "enterprise_id": enterprise.id,
            "kind": "patrol_check",
            "plan_id": None,
            "checklist": {"code": template.code, "version": template.version},
            "inspectors": [phone.user_id],
            "started_at": _stamp(started),
            "finished_at": _stamp(started + timedelta(minutes=rng.randrange(10, 40))),
            "location": {
                "lon": round(lon, 7),
                "lat": round(lat, 7),
                "crs": "gcj02",
                "accuracy_m": rng.choice((5, 10, 15, 30)),
            },
            "answers": answers(template, enterprise.subtype, rng, fail),
            "photos": [_sha(rng) for _ in range(rng.randrange(1, 4))],
            "remarks": ("检查情况良好。" * (remarks_bytes // 21 + 1))[: remarks_bytes // 3]
            if remarks_bytes
            else rng.choice(("", "企业负责人在场", "已当场告知整改要求")),
            "supersedes": None,
        },
    }


def patrol_change(phone: Phone, grid_id: str, rng: random.Random, now: datetime) -> dict:
    enterprises = phone.by_grid.get(grid_id) or phone.enterprises
    visited = rng.sample(enterprises, min(len(enterprises), rng.randrange(3, 9)))
    started = now - timedelta(minutes=rng.randrange(60, 600))
    points, times = [], []
    at = started
    lon, lat = visited[0].lon, visited[0].lat
    for target in visited:
        for step in range(rng.randrange(15, 30)):
            lon += (target.lon - lon) * 0.2 + rng.uniform(-1e-4, 1e-4)
            lat += (target.lat - lat) * 0.2 + rng.uniform(-1e-4, 1e-4)
            points.append([round(v, 7) for v in _gcj(lon, lat)])
            times.append(_stamp(at))
            at += timedelta(seconds=20)
    visits = []
    for n, target in enumerate(visited):
        vlon, vlat = _gcj(*_near(rng, target.lon, target.lat, 25))
        visits.append(
            {
                "enterprise_id": target.id,
                "at": _stamp(started + timedelta(minutes=10 * n)),
                "location": {"lon": round(vlon, 7), "lat": round(vlat, 7), "crs": "gcj02", "accuracy_m": 10},
                "outcome": "hazard_found" if rng.random() < 0.05 else "normal",
                "note": "",
                "photos": [_sha(rng)] if rng.random() < 0.3 else [],
            }
        )
    return {
        "entity": "patrol",
        "op": "create",
        "id": str(uuid.uuid4()),
        "recorded_at": _stamp(started),
        "data": {
            "grid_id": grid_id,
            "started_at": _stamp(started),
            "ended_at": _stamp(at),
            "track": {"crs": "gcj02", "coordinates": points, "times": times},
            "visits": visits,
            "notes": rng.choice(("", "巡查正常", "雨天，部分企业未开门")),
        },
    }


def batch(
    phone: Phone, templates: dict, rng: random.Random, size: int, *, patrols: bool = True, remarks_bytes: int = 0
) -> dict:
    now = datetime.now(timezone.utc)
    changes = []
    for _ in range(size):
        if patrols and rng.random() > INSPECTION_SHARE:
            changes.append(patrol_change(phone, rng.choice(phone.grids), rng, now))
        else:
            enterprise = rng.choice(phone.enterprises)
            template = templates[enterprise.industry, enterprise.subtype]
            changes.append(inspection_change(phone, enterprise, template, rng, now, remarks_bytes=remarks_bytes))
    return {"batch_id": str(uuid.uuid4()), "sent_at": _stamp(now), "changes": changes}


# --------------------------------------------------------------------------- the same rows, bare


def bare_rows(phone: Phone, body: dict) -> tuple[list[tuple], list[tuple]]:
    """The batch's changes as rows of the ceiling's bare tables (inspections, patrols)."""
    import json

    inspections, patrols = [], []
    for change in body["changes"]:
        d = change["data"]
        if change["entity"] == "inspection":
            loc = d["location"] or {}
            inspections.append(
                (
                    change["id"],
                    d["enterprise_id"],
                    d["kind"],
                    d["checklist"]["code"],
                    d["checklist"]["version"],
                    d["inspectors"],
                    d["started_at"],
                    d["finished_at"],
                    loc.get("lon"),
                    loc.get("lat"),
                    json.dumps(d["answers"], ensure_ascii=False),
                    d["photos"],
                    d["remarks"],
                    change["recorded_at"],
                    phone.device,
                )
            )
        else:
            track = "LINESTRING(" + ",".join(f"{x} {y}" for x, y in d["track"]["coordinates"]) + ")"
            patrols.append(
                (
                    change["id"],
                    d["grid_id"],
                    phone.user_id,
                    d["started_at"],
                    d["ended_at"],
                    track,
                    json.dumps(d["track"]["times"]),
                    json.dumps(d["visits"], ensure_ascii=False),
                    d["notes"],
                    change["recorded_at"],
                    phone.device,
                )
            )
    return inspections, patrols
