"""The machine's ceilings, measured in the same run on the same data: what the bare work behind each
AnXun figure costs with nothing of AnXun around it (no HTTP, no validation, no ORM, no audit, no feed).

Each function returns a dict of figures. ``python -m bench.ceilings xlsx …`` runs the xlsx ceiling in a
process of its own, so its peak RSS is its own."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
from psycopg2.extras import execute_values

from bench.dataset import dsn
from bench.stats import run_together, summary

# --------------------------------------------------------------------------- round trip


def _timed(bench_url: str, repeat: int, run) -> list[float]:
    """``run(cursor)`` ``repeat`` times on one autocommit connection; the seconds each took."""
    conn = psycopg2.connect(dsn(bench_url))
    conn.autocommit = True
    times = []
    try:
        with conn.cursor() as cur:
            for _ in range(repeat):
                t0 = time.perf_counter()
                run(cur)
                times.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return times


def select1(bench_url: str, count: int = 200) -> dict:
    """A ``SELECT 1`` round trip (DESIGN.md §8: state latencies against it)."""
    return summary(_timed(bench_url, count, lambda cur: (cur.execute("SELECT 1"), cur.fetchone())))


# --------------------------------------------------------------------------- push

BARE_TABLES = """
DROP TABLE IF EXISTS bench_bare_inspections, bench_bare_patrols;
CREATE TABLE bench_bare_inspections (
    id uuid, enterprise_id uuid, kind text, checklist_code text, checklist_version int, inspector_ids uuid[],
    started_at timestamptz, finished_at timestamptz, location geometry(Point, 4326), answers jsonb, photos text[],
    remarks text, recorded_at timestamptz, device_id text);
CREATE TABLE bench_bare_patrols (
    id uuid, grid_id uuid, worker_id uuid, started_at timestamptz, ended_at timestamptz,
    track geometry(LineString, 4326), track_times jsonb, visits jsonb, notes text, recorded_at timestamptz,
    device_id text);
"""
INSPECTION_TEMPLATE = (
    "(%s, %s, %s, %s, %s, %s::uuid[], %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s, %s)"
)
PATROL_TEMPLATE = "(%s, %s, %s, %s, %s, ST_GeomFromText(%s, 4326), %s, %s, %s, %s, %s)"


def push(bench_url: str, work: list[list[tuple[list, list]]]) -> dict:
    """``work[i]`` = the batches of connection i, each (inspection rows, patrol rows): inserted with
    ``execute_values`` into bare tables (no index, no constraint, no trigger), one commit per batch,
    all connections at once."""
    conn = psycopg2.connect(dsn(bench_url))
    with conn, conn.cursor() as cur:
        cur.execute(BARE_TABLES)
    conn.close()
    connections = [psycopg2.connect(dsn(bench_url)) for _ in work]
    latencies: list[float] = []
    lock = threading.Lock()

    def run(conn, batches):
        for inspections, patrols in batches:
            t0 = time.perf_counter()
            with conn, conn.cursor() as cur:
                if inspections:
                    execute_values(
                        cur,
                        "INSERT INTO bench_bare_inspections VALUES %s",
                        inspections,
                        template=INSPECTION_TEMPLATE,
                        page_size=500,
                    )
                if patrols:
                    execute_values(
                        cur,
                        "INSERT INTO bench_bare_patrols VALUES %s",
                        patrols,
                        template=PATROL_TEMPLATE,
                        page_size=500,
                    )
            with lock:
                latencies.append(time.perf_counter() - t0)

    seconds = run_together([lambda c=c, b=b: run(c, b) for c, b in zip(connections, work)])
    for c in connections:
        c.close()
    rows = sum(len(i) + len(p) for batches in work for i, p in batches)
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1),
        "batch_latency": summary(latencies),
    }


def push_median(bench_url: str, work: list[list[tuple[list, list]]], runs: int = 3) -> dict:
    """``push`` run ``runs`` times: the run of median rate, with every run's rate beside it. One run
    of a level's ceiling lasts about a second, the noisiest figure of the bench (5,961–11,497 rows/s
    for the same 8 phones in one session); the level it is set against lasts ten."""
    done = sorted((push(bench_url, work) for _ in range(runs)), key=lambda r: r["rows_per_s"])
    return done[len(done) // 2] | {"runs_rows_per_s": [r["rows_per_s"] for r in done]}


# --------------------------------------------------------------------------- pull

# One phone-ready row per record, by entity; {where} chooses the records.
RECORD_ROWS = {
    "enterprise": """SELECT 'enterprise', e.id::text, (to_jsonb(e) - 'location'
        || jsonb_build_object('lon', ST_X(e.location), 'lat', ST_Y(e.location)))::text
  FROM enterprises e WHERE {where}""",
    "grid": """SELECT 'grid', g.id::text, jsonb_build_object('name', g.name, 'version', g.version, 'town_id', g.town_id,
        'geometry', ST_AsGeoJSON(g.geometry, 7)::jsonb)::text
  FROM grids g WHERE {where}""",
    "hazard": "SELECT 'hazard', h.id::text, (to_jsonb(h) - 'location')::text FROM hazards h WHERE {where}",
    "task": "SELECT 'task', t.id::text, to_jsonb(t)::text FROM tasks t WHERE {where}",
    "plan": "SELECT 'plan', p.id::text, to_jsonb(p)::text FROM plans p WHERE {where}",
    "checklist_template": """SELECT 'checklist_template', c.code || '@' || c.version, c.content::text
  FROM checklist_templates c WHERE {where}""",
}


def _records_query(where: dict[str, str]) -> str:
    return "\nUNION ALL\n".join(RECORD_ROWS[entity].format(where=condition) for entity, condition in where.items())


PULL_ALL = _records_query(
    {
        "enterprise": "e.grid_id = ANY(%(grids)s::uuid[])",
        "grid": "g.id = ANY(%(grids)s::uuid[])",
        "hazard": "h.grid_id = ANY(%(grids)s::uuid[])",
        "task": "t.assignee_id = %(user)s",
        "checklist_template": "c.status = 'published'",
    }
)

PULL_SINCE = """
SELECT 'hazard', h.id::text, (to_jsonb(h) - 'location')::text
  FROM hazards h WHERE h.grid_id = ANY(%(grids)s::uuid[]) AND h.updated_at > %(since)s
UNION ALL
SELECT 'enterprise', e.id::text, (to_jsonb(e) - 'location')::text
  FROM enterprises e WHERE e.grid_id = ANY(%(grids)s::uuid[]) AND e.updated_at > %(since)s
UNION ALL
SELECT 'task', t.id::text, to_jsonb(t)::text FROM tasks t WHERE t.assignee_id = %(user)s AND t.updated_at > %(since)s
"""


def pull_initial(bench_url: str, phone) -> dict:
    """A phone's whole view read by one plain query (rows to the client, JSON left as text)."""
    read = {}

    def run(cur):
        cur.execute(PULL_ALL, {"grids": phone.grids, "user": phone.user_id})
        read["rows"] = cur.fetchall()

    times = _timed(bench_url, 3, run)
    return {
        "seconds": round(min(times), 4),
        "rows": len(read["rows"]),
        "json_bytes": sum(len(r[2]) for r in read["rows"]),
    }


PULL_RECORDS = _records_query(
    {
        "enterprise": "e.id = ANY(%(enterprise)s::uuid[])",
        "grid": "g.id = ANY(%(grid)s::uuid[])",
        "hazard": "h.id = ANY(%(hazard)s::uuid[])",
        "task": "t.id = ANY(%(task)s::uuid[])",
        "plan": "p.id = ANY(%(plan)s::uuid[])",
        "checklist_template": "c.code || '@' || c.version = ANY(%(checklist_template)s)",
    }
)


def pull_records(bench_url: str, keys: list[tuple[str, str]]) -> dict:
    """Records named by (entity, id) read by one plain query: what a page of the feed has to fetch."""
    wanted: dict[str, list[str]] = {entity: [] for entity in RECORD_ROWS}
    for entity, record_id in keys:
        wanted.setdefault(entity, []).append(record_id)
    read = {}

    def run(cur):
        cur.execute(PULL_RECORDS, wanted)
        read["rows"] = len(cur.fetchall())

    times = _timed(bench_url, 3, run)
    return {"seconds": round(min(times), 4), "rows": read["rows"]}


def pull_incremental(bench_url: str, phones, rounds: int, since) -> dict:
    """Each phone's changes since ``since`` by one plain query; all phones at once, closed loop."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(phones) + 1)

    def run(phone):
        conn = psycopg2.connect(dsn(bench_url))
        conn.autocommit = True
        barrier.wait()
        with conn.cursor() as cur:
            for _ in range(rounds):
                t0 = time.perf_counter()
                cur.execute(PULL_SINCE, {"grids": phone.grids, "user": phone.user_id, "since": since})
                cur.fetchall()
                with lock:
                    latencies.append(time.perf_counter() - t0)
        conn.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join()
    return summary(latencies)


# --------------------------------------------------------------------------- photos


def _photo_work(photo, outdir: Path) -> None:
    from PIL import Image, ImageOps

    digest = hashlib.sha256(photo.data).hexdigest()
    with open(outdir / digest, "wb") as fh:
        fh.write(photo.data)
        fh.flush()
        os.fsync(fh.fileno())
    img = Image.open(io.BytesIO(photo.data))
    img.draft("RGB", (512, 512))
    img.load()
    img = ImageOps.exif_transpose(img)
    img.thumbnail((512, 512), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, optimize=True)
    with open(outdir / f"{digest}.thumb", "wb") as fh:
        fh.write(out.getvalue())
        fh.flush()
        os.fsync(fh.fileno())


def photos(photos: list, concurrency: int, outdir: Path) -> dict:
    """SHA-256, draft-mode decode, thumbnail and durable write of the same files, in a tight loop."""
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.iterdir():
        old.unlink()
    t0 = time.perf_counter()
    if concurrency == 1:
        for photo in photos:
            _photo_work(photo, outdir)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda p: _photo_work(p, outdir), photos))
    seconds = time.perf_counter() - t0
    megabytes = sum(len(p.data) for p in photos) / 1e6
    return {
        "photos": len(photos),
        "seconds": round(seconds, 3),
        "photos_per_s": round(len(photos) / seconds, 2),
        "mb_per_s": round(megabytes / seconds, 1),
    }


# --------------------------------------------------------------------------- grid redraw

# The named ceiling: every enterprise joined to every grid in one bare statement, in the polygon-driven
# form DESIGN.md §8 recommends; only placements that change are written.
PLACE_ALL = """
UPDATE enterprises e SET grid_id = g.id
  FROM grids g
 WHERE ST_Covers(g.geometry, e.location) AND e.grid_id IS DISTINCT FROM g.id"""
# The same edits' enterprises only: a tighter bound, reported alongside.
PLACE_EDITED = """
UPDATE enterprises e SET grid_id = g.id
  FROM grids g
 WHERE g.id = ANY(%(ids)s::uuid[]) AND ST_Covers(g.geometry, e.location) AND e.grid_id IS DISTINCT FROM g.id"""
APPLY_EDITS = """
UPDATE grids g SET geometry = r.geometry, version = g.version + 1, updated_at = now()
  FROM bench_redraw r WHERE r.grid_id = g.id"""


def redraw(bench_url: str, grid_ids: list[str]) -> dict:
    """The edits of ``bench_redraw`` applied in one transaction and every affected enterprise re-placed by
    one bare UPDATE … FROM … ST_Covers; rolled back, so AnXun then starts from the same tables."""
    out = {}
    conn = psycopg2.connect(dsn(bench_url))
    for name, sql in (("all_enterprises", PLACE_ALL), ("edited_grids_only", PLACE_EDITED)):
        best = None
        for _ in range(2):
            with conn.cursor() as cur:
                t0 = time.perf_counter()
                cur.execute(APPLY_EDITS)
                cur.execute(sql, {"ids": grid_ids})
                moved = cur.rowcount
                seconds = time.perf_counter() - t0
            conn.rollback()
            best = seconds if best is None else min(best, seconds)
        out[name] = {"seconds": round(best, 4), "enterprises_moved": moved}
    conn.close()
    return out


# --------------------------------------------------------------------------- ledger

LEDGER = """
SELECT h.*, e.name AS enterprise_name, e.industry, r.code AS region_code,
       (h.status = 'ordered' AND h.deadline < now()) AS overdue, ST_AsGeoJSON(h.location) AS location_json
  FROM hazards h
  LEFT JOIN enterprises e ON e.id = h.enterprise_id
  LEFT JOIN regions r ON r.id = h.region_id
 WHERE {where}
 ORDER BY h.found_at DESC NULLS LAST, h.id"""


# The ledger's filters as plain SQL: each one given adds its condition (with its value as a parameter).
LEDGER_FILTERS = {
    "status": "h.status = ANY(%(status)s)",
    "level": "h.level = %(level)s",
    "industry": "e.industry = %(industry)s",
    "region": "r.path <@ (SELECT path FROM regions WHERE code = %(region)s)",
    "overdue": "h.status = 'ordered' AND h.deadline < now()",
    "supervised": "h.supervised",
}


def ledger_where(filters: dict) -> tuple[str, dict]:
    given = {name: filters[name] for name in LEDGER_FILTERS if filters.get(name)}
    return " AND ".join(["TRUE"] + [LEDGER_FILTERS[name] for name in given]), given


def ledger_page(bench_url: str, filters: dict, repeat: int) -> dict:
    """The same page (50 rows) and count as the ledger endpoint, by plain SQL."""
    where, params = ledger_where(filters)

    def run(cur):
        cur.execute(f"SELECT count(*) FROM ({LEDGER.format(where=where)}) q", params)
        cur.fetchone()
        cur.execute(LEDGER.format(where=where) + " LIMIT 50", params)
        cur.fetchall()

    return summary(_timed(bench_url, repeat, run))


def xlsx(bench_url: str, filters: dict, out: Path) -> dict:
    """The same rows streamed from a server-side cursor into an XlsxWriter constant-memory workbook (the
    library AnXun writes with), in a process of its own (its peak RSS is reported)."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "bench.ceilings", "xlsx", bench_url, json.dumps(filters), str(out)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip()[-500:]}
    return json.loads(result.stdout)


def _xlsx_main(bench_url: str, filters: dict, out: str) -> dict:
    import resource
    from datetime import timedelta, timezone

    import xlsxwriter

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where, params = ledger_where(filters)
    shanghai = timezone(timedelta(hours=8))
    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn(bench_url))
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("隐患台账")
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(
        0,
        0,
        [
            "编号",
            "企业",
            "行业",
            "区划",
            "等级",
            "状态",
            "隐患描述",
            "发现时间",
            "整改期限",
            "责任人",
            "整改措施",
            "逾期",
            "督办",
            "销号时间",
        ],
    )
    rows = 0

    def local(value):
        return value.astimezone(shanghai).replace(tzinfo=None) if value is not None else None

    with conn.cursor(name="ledger") as cur:
        cur.itersize = 2000
        cur.execute(
            f"""SELECT q.id::text, q.enterprise_name, q.industry, q.region_code, q.level, q.status,
                               q.description, q.found_at, q.deadline, q.responsible_person, q.measures, q.overdue,
                               q.supervised, q.closed_at
                          FROM ({LEDGER.format(where=where)}) q""",
            params,
        )
        for row in cur:
            rows += 1
            row = list(row)
            for i in (7, 8, 13):
                if row[i] is not None:
                    sheet.write_datetime(rows, i, local(row[i]), moment)
                    row[i] = None
            sheet.write_row(rows, 0, row)
    book.close()
    conn.close()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "bytes": os.path.getsize(out),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - baseline, 1),
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "xlsx":
        print(json.dumps(_xlsx_main(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])))
    else:
        raise SystemExit("usage: python -m bench.ceilings xlsx BENCH_URL FILTERS_JSON OUT.xlsx")
