"""The six measurements of issue 9, each against its ceiling. A section runs when the API it measures
exists (its path in the server's OpenAPI document) and reports "not available" otherwise.

Every section returns ``(figures, rows)``: the figures go to the JSON, the rows to the table. A row's
``ratio`` is AnXun ÷ ceiling: for a rate (higher is better) a fraction of the ceiling, for a time
(lower is better) a multiple of it."""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg2

from bench import ceilings, payloads
from bench.client import Client, json_body
from bench.config import WORK, Sizes
from bench.dataset import dsn, token_for
from bench.images import make_photos
from bench.stats import load, percentile, run_together, summary


@dataclass
class Row:
    section: str
    metric: str
    value: float | None
    unit: str
    ceiling: float | None = None
    kind: str = "rate"  # "rate": ratio is a share of the ceiling; "time": a multiple of it
    target: str = ""
    met: bool | None = None
    note: str = ""
    load1: float = field(default_factory=lambda: load()[0])

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.ceiling:
            return None
        return self.value / self.ceiling


@dataclass
class Context:
    sizes: Sizes
    bench_url: str
    base: str
    server: object
    phones: list
    templates: dict
    paths: dict[str, set[str]]
    log: object = print

    def client(self, username: str, connections: int = 1) -> Client:
        return Client(self.base, token_for(username), connections=connections)

    def has(self, method: str, path: str) -> bool:
        """Whether the API documents ``method path`` (path parameters written as {…})."""
        pattern = re.sub(r"\\\{[^}]*\\\}", r"\\{[^}]+\\}", re.escape(path))
        return any(re.fullmatch(pattern, p) and method.lower() in methods for p, methods in self.paths.items())

    def query(self, sql: str, params=None, *, commit: bool = False):
        conn = psycopg2.connect(dsn(self.bench_url))
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
            if commit:
                conn.commit()
            return rows
        finally:
            conn.close()

    def settle(self) -> float:
        """VACUUM (ANALYZE) what earlier measurements wrote, so that autovacuum, woken by their rows, does not
        run on these two cores in the middle of the next one (it did: one push level ran ≈ 20 % slower
        while five tables were analysed). Returns the seconds it took."""
        t0 = time.perf_counter()
        conn = psycopg2.connect(dsn(self.bench_url))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables"
                    " WHERE n_mod_since_analyze > 0 OR n_ins_since_vacuum > 0 OR n_dead_tup > 0"
                )
                tables = [row[0] for row in cur.fetchall()]
                if tables:
                    cur.execute("VACUUM (ANALYZE) " + ", ".join(tables))
        finally:
            conn.close()
        return time.perf_counter() - t0


def not_available(section: str, what: str) -> tuple[dict, list[Row]]:
    return {"available": False}, [Row(section, what, None, "", note="not available")]


# --------------------------------------------------------------------------- warm-up


def warm_up(ctx: Context) -> None:
    """A few small pushes and pulls, so that imports and first-query costs of every worker thread are
    paid before anything is timed."""
    if not ctx.has("post", "/api/v1/sync/push"):
        return
    rng = random.Random(99)
    phones = ctx.phones[:8]

    def one(phone):
        client = Client(ctx.base, phone.token)
        for _ in range(2):
            body = payloads.batch(phone, ctx.templates, rng, 10)
            client.request("POST", "/api/v1/sync/push", *json_body(body, gzipped=True))
            client.get("/api/v1/sync/pull?limit=50", headers={"Accept-Encoding": "gzip"})

    run_together([lambda p=p: one(p) for p in phones])


# --------------------------------------------------------------------------- 1. push


def push(ctx: Context) -> tuple[dict, list[Row]]:
    if not ctx.has("post", "/api/v1/sync/push"):
        return not_available("push", "sync push")
    sizes, rng = ctx.sizes, random.Random(1)
    figures, rows = {}, []
    for n in sizes.push_phones:
        phones = [ctx.phones[i % len(ctx.phones)] for i in range(n)]
        per_phone = sizes.push_batches.get(n, 1)
        bodies = [
            [payloads.batch(p, ctx.templates, rng, sizes.batch_changes) for _ in range(per_phone)] for p in phones
        ]
        changes = sum(len(b["changes"]) for bs in bodies for b in bs)
        answers_per_change = [
            len(c["data"]["answers"]) for bs in bodies for b in bs for c in b["changes"] if c["entity"] == "inspection"
        ]
        settled = ctx.settle()
        ctx.log(
            f"  push: {n} phone(s) × {per_phone} batch(es) × {sizes.batch_changes} changes"
            f"  (database settled in {settled:.1f} s)"
        )
        ceiling = ceilings.push_median(
            ctx.bench_url, [[payloads.bare_rows(p, b) for b in bs] for p, bs in zip(phones, bodies)]
        )
        encoded = [[json_body(b, gzipped=True) for b in bs] for bs in bodies]
        latencies, statuses, problems = [], {}, []
        lock = threading.Lock()
        load_before = load()

        def phone_run(phone, batches):
            client = Client(ctx.base, phone.token)
            for data, headers in batches:
                reply = client.request("POST", "/api/v1/sync/push", data, headers)
                with lock:
                    latencies.append(reply.seconds)
                    if reply.status != 200:
                        problems.append(f"HTTP {reply.status}: {reply.body[:300]!r}")
                        continue
                    for result in reply.json()["results"]:
                        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
                        if result["status"] not in ("applied", "duplicate") and len(problems) < 5:
                            problems.append(json.dumps(result, ensure_ascii=False)[:300])

        wall = run_together([lambda p=p, b=b: phone_run(p, b) for p, b in zip(phones, encoded)])
        rate = changes / wall
        lat = summary(latencies)
        figures[f"{n}_phones"] = {
            "changes": changes,
            "seconds": round(wall, 3),
            "changes_per_s": round(rate, 1),
            "batch_latency": lat,
            "statuses": statuses,
            "problems": problems,
            "answers_per_inspection": {
                "min": min(answers_per_change, default=0),
                "max": max(answers_per_change, default=0),
                "mean": round(sum(answers_per_change) / max(len(answers_per_change), 1), 1),
            },
            "gzip_bytes_per_batch": round(sum(len(d) for bs in encoded for d, _ in bs) / max(1, n * per_phone)),
            "ceiling": ceiling,
            "load": [load_before, load()],
        }
    # Issue 23: ≥ 400/s and ≥ 10 % of the ceiling with 8 phones; more phones never slower than fewer.
    # Judged once every level ran (ANXUN_BENCH_PUSH_PHONES may run them in another order).
    rates = {n: figures[f"{n}_phones"]["changes_per_s"] for n in sizes.push_phones}
    for n in sizes.push_phones:
        level = figures[f"{n}_phones"]
        rate, ceiling, lat = rates[n], level["ceiling"], level["batch_latency"]
        fewer = [rates[m] for m in rates if m < n]
        never_slower = rate >= max(fewer, default=0)
        if n == 8:
            target = "≥ 400/s, ≥ 10 %, ≥ fewer phones'"
            met = rate >= 400 and rate / ceiling["rows_per_s"] >= 0.1 and never_slower
        elif fewer:
            target, met = "≥ fewer phones' rate", never_slower
        else:
            target, met = "", None
        rows.append(
            Row(
                "push",
                f"{n} phone{'s' if n > 1 else ''}: changes/s",
                round(rate),
                "/s",
                ceiling["rows_per_s"],
                "rate",
                target,
                met,
                note=f"p50 {lat['p50_ms'] / 1000:.2f} s, p99 {lat['p99_ms'] / 1000:.2f} s per batch; ceiling median of "
                + "/".join(f"{r:,.0f}" for r in ceiling["runs_rows_per_s"])
                + (f"; {len(level['problems'])} problem(s)" if level["problems"] else ""),
            )
        )
    return figures, rows


# --------------------------------------------------------------------------- 6. memory (max batch)


def memory(ctx: Context) -> tuple[dict, list[Row]]:
    if not ctx.has("post", "/api/v1/sync/push"):
        return not_available("memory", "max-batch worker RSS")
    sizes = ctx.sizes
    phone = ctx.phones[-1]
    rng = random.Random(6)
    probe = payloads.batch(phone, ctx.templates, rng, sizes.max_batch_changes, patrols=False)
    size = len(json.dumps(probe, ensure_ascii=False, separators=(",", ":")).encode())
    limit = 8 * 1024 * 1024
    pad = max(0, int((limit * 0.93 - size) / sizes.max_batch_changes))
    body = payloads.batch(
        phone, ctx.templates, random.Random(6), sizes.max_batch_changes, patrols=False, remarks_bytes=min(pad, 14_000)
    )
    data, headers = json_body(body, gzipped=True)
    raw = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    before = ctx.server.memory()
    exact = ctx.server.reset_peaks()
    reply = Client(ctx.base, phone.token).request("POST", "/api/v1/sync/push", data, headers)
    after = ctx.server.memory()
    results = reply.json().get("results", []) if reply.status == 200 else []
    applied = sum(1 for r in results if r["status"] == "applied")
    peak = max(m["peak_mb"] for m in after.values())
    figures = {
        "changes": len(body["changes"]),
        "json_bytes": raw,
        "gzip_bytes": len(data),
        "status": reply.status,
        "applied": applied,
        "seconds": round(reply.seconds, 2),
        "workers_before": before,
        "workers_after": after,
        "peak_reset_exact": exact,
        "peak_rss_mb": peak,
    }
    return figures, [
        Row(
            "memory",
            f"max batch ({len(body['changes'])} changes, {raw / 2**20:.1f} MiB): worker peak RSS",
            peak,
            "MB",
            None,
            "time",
            "< 300 MB",
            peak < 300,
            note=f"HTTP {reply.status}, {applied} applied in {reply.seconds:.1f} s"
            + ("" if exact else "; peak not reset (includes earlier peaks)"),
        )
    ]


# --------------------------------------------------------------------------- 2. pull


def _pull_all(client: Client, cursor: str | None = None, limit: int = 500, max_pages: int | None = None) -> dict:
    pages, gzip_bytes, records, t0 = 0, 0, 0, time.perf_counter()
    first_page = None
    keys: list[tuple[str, str]] = []
    while max_pages is None or pages < max_pages:
        path = "/api/v1/sync/pull?" + (f"cursor={cursor}&limit={limit}" if cursor else f"limit={limit}")
        reply = client.get(path, headers={"Accept-Encoding": "gzip"})
        if reply.status != 200:
            raise RuntimeError(f"pull answered {reply.status}: {reply.body[:300]!r}")
        answer = reply.json()
        pages += 1
        first_page = first_page if first_page is not None else reply.seconds
        gzip_bytes += len(reply.body)
        records += len(answer["changes"])
        if max_pages is not None:
            keys += [(c["entity"], c["id"]) for c in answer["changes"]]
        cursor = answer["cursor"]
        if not answer["has_more"]:
            break
    return {
        "seconds": time.perf_counter() - t0,
        "pages": pages,
        "gzip_bytes": gzip_bytes,
        "records": records,
        "cursor": cursor,
        "first_page_seconds": first_page,
        "keys": keys,
    }


OFFICER_PAGES = 5


def pull(ctx: Context) -> tuple[dict, list[Row]]:
    if not ctx.has("get", "/api/v1/sync/pull"):
        return not_available("pull", "sync pull")
    sizes = ctx.sizes
    figures, rows = {}, []
    # One grid worker's first pull, alone (five workers, the median reported).
    samples, ceiling_samples = [], []
    for phone in ctx.phones[:5]:
        result = _pull_all(Client(ctx.base, phone.token))
        result.pop("cursor"), result.pop("keys")
        samples.append(result)
        ceiling_samples.append(ceilings.pull_initial(ctx.bench_url, phone))
    samples.sort(key=lambda s: s["seconds"])
    median = samples[len(samples) // 2]
    ceiling = sorted(c["seconds"] for c in ceiling_samples)[len(ceiling_samples) // 2]
    figures["initial"] = {"median": median, "all": samples, "ceiling": ceiling_samples}
    rows.append(
        Row(
            "pull",
            "initial full pull, one phone",
            round(median["seconds"], 3),
            "s",
            round(ceiling, 4),
            "time",
            "< 1 s",
            median["seconds"] < 1,
            note=f"{median['records']} records, {median['pages']} page(s), {median['gzip_bytes'] / 1024:.0f} KiB gzip",
        )
    )

    # An inspector's first pull sees the whole county: a snapshot walked by record key. Its first pages
    # (information: the whole of it is ≈ 190 pages of 2,000 on the full county).
    officer = _pull_all(ctx.client("inspector1"), limit=2000, max_pages=OFFICER_PAGES)
    officer_ceiling = ceilings.pull_records(ctx.bench_url, officer.pop("keys"))
    officer.pop("cursor")
    figures["inspector_first_pages"] = {"pull": officer, "ceiling": officer_ceiling}
    rows.append(
        Row(
            "pull",
            f"inspector's first pull: first {officer['pages']} pages of 2,000",
            round(officer["seconds"], 3),
            "s",
            officer_ceiling["seconds"],
            "time",
            note=f"{officer['records']} records; ceiling = the same records read by one plain query",
        )
    )

    # Every phone's first pull at once: the morning after a reinstall (information).
    phones = [ctx.phones[i % len(ctx.phones)] for i in range(sizes.pull_phones)]
    cursors: dict[int, str] = {}
    first: list[float] = []
    lock = threading.Lock()

    def initial(i, phone):
        result = _pull_all(Client(ctx.base, phone.token))
        with lock:
            cursors[i] = result["cursor"]
            first.append(result["seconds"])

    wall = run_together([lambda i=i, p=p: initial(i, p) for i, p in enumerate(phones)])
    figures["initial_concurrent"] = {"phones": len(phones), "wall_seconds": round(wall, 2), "per_phone": summary(first)}
    rows.append(
        Row(
            "pull",
            f"initial pull, {len(phones)} phones at once: p99",
            round(percentile(first, 99), 3),
            "s",
            note="information",
        )
    )

    # Incremental pulls: all phones pulling in a closed loop while the county keeps changing.
    stop = threading.Event()
    writes = {"updates": 0}
    since = ctx.query("SELECT now()")[0][0]
    phone_grids = [g for p in phones for g in p.grids]

    def writer():
        conn = psycopg2.connect(dsn(ctx.bench_url))
        conn.autocommit = True
        wrng = random.Random(3)
        with conn.cursor() as cur:
            while not stop.is_set():
                grids = wrng.sample(phone_grids, min(3, len(phone_grids)))
                cur.execute(
                    """
                    UPDATE hazards SET version = version + 1, updated_at = now()
                     WHERE id IN (SELECT id FROM hazards WHERE grid_id = ANY(%s::uuid[]) ORDER BY random() LIMIT 3)
                        OR id IN (SELECT id FROM hazards TABLESAMPLE SYSTEM (0.1) LIMIT 7)""",
                    (grids,),
                )
                writes["updates"] += cur.rowcount
                time.sleep(0.1)
        conn.close()

    latencies: list[float] = []
    changes_seen = {"records": 0}

    def incremental(i, phone):
        client = Client(ctx.base, phone.token)
        cursor = cursors[i]
        for _ in range(sizes.incremental_rounds):
            reply = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers={"Accept-Encoding": "gzip"})
            answer = reply.json()
            with lock:
                latencies.append(reply.seconds)
                changes_seen["records"] += len(answer["changes"])
            cursor = answer["cursor"]
            while answer["has_more"]:
                answer = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers={"Accept-Encoding": "gzip"}).json()
                cursor = answer["cursor"]

    writer_thread = threading.Thread(target=writer)
    writer_thread.start()
    try:
        time.sleep(0.3)
        load_before = load()
        wall = run_together([lambda i=i, p=p: incremental(i, p) for i, p in enumerate(phones)])
        load_after = load()
        ceiling_inc = ceilings.pull_incremental(ctx.bench_url, phones, sizes.incremental_rounds, since)
    finally:
        stop.set()
        writer_thread.join()
    inc = summary(latencies)
    # The same pull by one phone alone: the cost of one request without queueing behind 31 others.
    alone = []
    client = Client(ctx.base, phones[0].token)
    for _ in range(20):
        reply = client.get(f"/api/v1/sync/pull?cursor={cursors[0]}", headers={"Accept-Encoding": "gzip"})
        alone.append(reply.seconds)
    alone_summary = summary(alone)
    round_trip = ceilings.select1(ctx.bench_url)
    figures["incremental"] = {
        "phones": len(phones),
        "rounds": sizes.incremental_rounds,
        "latency": inc,
        "wall_seconds": round(wall, 2),
        "records_received": changes_seen["records"],
        "hazard_updates_meanwhile": writes["updates"],
        "ceiling": ceiling_inc,
        "one_phone_alone": alone_summary,
        "select1": round_trip,
        "load": [load_before, load_after],
    }
    rows.append(
        Row(
            "pull",
            f"incremental, {len(phones)} phones: p99",
            inc["p99_ms"],
            "ms",
            ceiling_inc["p99_ms"],
            "time",
            "≤ 1.2× ceiling (issue 23)",
            inc["p99_ms"] <= 1.2 * ceiling_inc["p99_ms"],
            note=f"p50 {inc['p50_ms']:.0f} ms; ceiling p50 {ceiling_inc['p50_ms']:.1f} ms",
        )
    )
    rows.append(
        Row(
            "pull",
            "incremental, one phone alone: p50",
            alone_summary["p50_ms"],
            "ms",
            round_trip["p50_ms"],
            "time",
            note="ceiling = SELECT 1 round trip",
        )
    )
    return figures, rows


# --------------------------------------------------------------------------- 3. photos


def photos(ctx: Context) -> tuple[dict, list[Row]]:
    if not ctx.has("put", "/api/v1/photos/{sha256}"):
        return not_available("photos", "photo ingest")
    sizes = ctx.sizes
    phone = ctx.phones[0]
    places = [(e.lon, e.lat) for e in phone.enterprises[:8]]
    t0 = time.perf_counter()
    total = sizes.photos_sequential + sizes.photos_concurrent
    pictures = make_photos(total, places, salt=uuid.uuid4().hex)
    ctx.log(
        f"  photos: {total} photos made in {time.perf_counter() - t0:.1f} s "
        f"({min(len(p.data) for p in pictures) / 1e6:.1f}–{max(len(p.data) for p in pictures) / 1e6:.1f} MB)"
    )
    # The records naming them come first, as on a phone: pushed, then the missing photos uploaded.
    rng = random.Random(5)
    now = datetime.now(timezone.utc)
    changes = []
    for picture, enterprise in zip(pictures, [phone.enterprises[i % len(phone.enterprises)] for i in range(total)]):
        template = ctx.templates[enterprise.industry, enterprise.subtype]
        change = payloads.inspection_change(phone, enterprise, template, rng, now)
        change["data"]["photos"] = [picture.sha256]
        changes.append(change)
    client = Client(ctx.base, phone.token)
    reply = client.post_json(
        "/api/v1/sync/push",
        {"batch_id": str(uuid.uuid4()), "sent_at": now.isoformat(), "changes": changes},
        gzipped=True,
    )
    missing = len(reply.json().get("missing_photos", [])) if reply.status == 200 else 0

    figures, rows = {"photo_mb": [round(len(p.data) / 1e6, 2) for p in pictures], "named_missing_before": missing}, []
    runs = [(1, pictures[: sizes.photos_sequential]), (sizes.photo_concurrency, pictures[sizes.photos_sequential :])]
    for concurrency, batch in runs:
        ceiling = ceilings.photos(batch, concurrency, WORK / "ceiling-photos")
        statuses: dict[int, int] = {}
        latencies = []
        lock = threading.Lock()
        queue = list(batch)

        def uploader():
            c = Client(ctx.base, phone.token)
            while True:
                with lock:
                    if not queue:
                        return
                    picture = queue.pop(0)
                r = c.request("PUT", f"/api/v1/photos/{picture.sha256}", picture.data, {"Content-Type": "image/jpeg"})
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    latencies.append(r.seconds)

        load_before = load()
        wall = run_together([uploader for _ in range(concurrency)])
        rate = len(batch) / wall
        figures[f"concurrency_{concurrency}"] = {
            "photos": len(batch),
            "seconds": round(wall, 3),
            "photos_per_s": round(rate, 2),
            "mb_per_s": round(sum(len(p.data) for p in batch) / 1e6 / wall, 1),
            "statuses": statuses,
            "latency": summary(latencies),
            "ceiling": ceiling,
            "load": [load_before, load()],
        }
        ok = statuses.get(201, 0) == len(batch)
        rows.append(
            Row(
                "photos",
                f"{concurrency} at a time: photos/s",
                round(rate, 2),
                "/s",
                ceiling["photos_per_s"],
                "rate",
                "≥ 60 %",
                ok and rate / ceiling["photos_per_s"] >= 0.6,
                note=f"p50 {summary(latencies)['p50_ms']:.0f} ms each" + ("" if ok else f"; statuses {statuses}"),
            )
        )
    return figures, rows


# --------------------------------------------------------------------------- 4. grid redraw

PAIRS = """
DROP TABLE IF EXISTS bench_redraw;
CREATE TABLE bench_redraw AS
WITH a AS (SELECT id, town_id, geometry FROM grids ORDER BY md5(id::text || %(salt)s) LIMIT %(candidates)s),
pairs AS (
    SELECT a.id AS a_id, b.id AS b_id, a.town_id, a.geometry AS a_geom, b.geometry AS b_geom,
           ST_Length(ST_Intersection(ST_Boundary(a.geometry), ST_Boundary(b.geometry))) AS shared
      FROM a JOIN grids b ON b.town_id = a.town_id AND b.id <> a.id AND ST_Intersects(a.geometry, b.geometry)
)
SELECT * FROM pairs WHERE shared > 0.004;
"""


def _choose_pairs(ctx: Context, count: int) -> list[tuple[str, str]]:
    rows = ctx.query(
        PAIRS + " SELECT a_id::text, b_id::text FROM bench_redraw ORDER BY shared DESC",
        {"salt": "redraw", "candidates": count * 8},
        commit=True,
    )
    used, pairs = set(), []
    for a, b in rows:
        if a in used or b in used:
            continue
        used.update((a, b))
        pairs.append((a, b))
        if len(pairs) == count:
            break
    return pairs


def redraw(ctx: Context) -> tuple[dict, list[Row]]:
    if not ctx.has("patch", "/api/v1/grids/{grid_id}"):
        return not_available("redraw", "grid redraw")
    sizes = ctx.sizes
    pairs = _choose_pairs(ctx, sizes.redraw_grids // 2)
    # Move the boundary between each pair: a ~300 m strip of b along the shared edge goes to a.
    edits = ctx.query(
        """
        WITH chosen AS (SELECT * FROM unnest(%(a)s::uuid[], %(b)s::uuid[]) AS c(a_id, b_id)),
        strip AS (
            SELECT c.a_id, c.b_id, ST_CollectionExtract(ST_Intersection(b.geometry, ST_Buffer(a.geometry, 0.003)), 3) AS s
              FROM chosen c JOIN grids a ON a.id = c.a_id JOIN grids b ON b.id = c.b_id)
        SELECT e.grid_id::text, g.version, e.geometry FROM (
            SELECT s.a_id AS grid_id, ST_Multi(ST_CollectionExtract(ST_Union(a.geometry, s.s), 3)) AS geometry
              FROM strip s JOIN grids a ON a.id = s.a_id
            UNION ALL
            SELECT s.b_id, ST_Multi(ST_CollectionExtract(ST_Difference(b.geometry, s.s), 3))
              FROM strip s JOIN grids b ON b.id = s.b_id) e
        JOIN grids g ON g.id = e.grid_id""",
        {"a": [a for a, _ in pairs], "b": [b for _, b in pairs]},
    )
    edits = {grid_id: (version, geom) for grid_id, version, geom in edits}
    conn = psycopg2.connect(dsn(ctx.bench_url))
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_redraw")
        cur.execute(
            "CREATE TABLE bench_redraw (grid_id uuid PRIMARY KEY, geometry geometry(MultiPolygon, 4326), geojson text)"
        )
        for grid_id, (_, geom) in edits.items():
            cur.execute(
                "INSERT INTO bench_redraw VALUES (%s, %s, ST_AsGeoJSON(%s::geometry, 9))", (grid_id, geom, geom)
            )
        cur.execute("SELECT grid_id::text, geojson FROM bench_redraw")
        geojson = dict(cur.fetchall())
    conn.close()
    ids = list(edits)
    ceiling = ceilings.redraw(ctx.bench_url, ids)

    desk = ctx.client("desk")
    relocated, problems, latencies = 0, [], []
    order = [g for pair in pairs for g in pair]  # a grows over the strip, then b gives it up
    load_before = load()
    t0 = time.perf_counter()
    for grid_id in order:
        body = {"version": edits[grid_id][0], "geometry": json.loads(geojson[grid_id])}
        reply = desk.request("PATCH", f"/api/v1/grids/{grid_id}", *json_body(body))
        latencies.append(reply.seconds)
        if reply.status == 200:
            relocated += reply.json().get("placement", {}).get("enterprises_relocated", 0)
        elif len(problems) < 5:
            problems.append(f"{reply.status}: {reply.body[:300].decode(errors='replace')}")
    wall = time.perf_counter() - t0
    named = ceiling["all_enterprises"]
    figures = {
        "grids": len(order),
        "seconds": round(wall, 3),
        "enterprises_relocated": relocated,
        "per_request": summary(latencies),
        "problems": problems,
        "ceiling": ceiling,
        "load": [load_before, load()],
    }
    return figures, [
        Row(
            "redraw",
            f"edit {len(order)} grids + re-place",
            round(wall, 3),
            "s",
            named["seconds"],
            "time",
            "≤ 1.5×",
            not problems and wall <= 1.5 * named["seconds"],
            note=f"{relocated} relocated (ceiling {named['enterprises_moved']}); "
            f"same-edits bare {ceiling['edited_grids_only']['seconds'] * 1000:.0f} ms"
            + (f"; {len(problems)} refused" if problems else ""),
        )
    ]


# --------------------------------------------------------------------------- 5. ledger


def _town_code(ctx: Context) -> str:
    return ctx.query("SELECT code FROM regions WHERE level = 'town' ORDER BY code LIMIT 1")[0][0]


def ledger(ctx: Context) -> tuple[dict, list[Row]]:
    figures, rows = {}, []
    if not ctx.has("get", "/api/v1/hazards"):
        return not_available("ledger", "hazard ledger")
    town = _town_code(ctx)
    filter_sets = {
        "overdue": {"status": ["ordered"], "overdue": True},
        "town_industry": {"region": town, "industry": "fireworks", "status": ["ordered", "submitted"]},
        "major_supervised": {"level": "major", "supervised": True},
    }
    desk = ctx.client("desk")
    repeat = max(1, ctx.sizes.ledger_requests // len(filter_sets))
    anx, ceil = [], []
    per_filter = {}
    for name, filters in filter_sets.items():
        query = "&".join(
            f"{k}={v}" if not isinstance(v, list) else "&".join(f"{k}={x}" for x in v) for k, v in filters.items()
        ).replace("True", "true")
        times, total = [], None
        for _ in range(repeat):
            reply = desk.get(f"/api/v1/hazards?{query}&per_page=50")
            times.append(reply.seconds)
            total = reply.json().get("total") if reply.status == 200 else f"HTTP {reply.status}"
        c = ceilings.ledger_page(ctx.bench_url, filters, repeat)
        per_filter[name] = {"query": query, "total": total, "latency": summary(times), "ceiling": c}
        anx += times
        ceil.append(c["p50_ms"])
    s = summary(anx)
    figures["filtered"] = per_filter
    rows.append(
        Row(
            "ledger",
            "filtered query (page of 50 + count): p50",
            s["p50_ms"],
            "ms",
            round(sorted(ceil)[len(ceil) // 2], 2),
            "time",
            note="; ".join(f"{k} {v['total']} rows" for k, v in per_filter.items()),
        )
    )

    if not ctx.has("get", "/api/v1/hazards/export.xlsx"):
        figures["xlsx"] = {"available": False}
        rows.append(Row("ledger", "xlsx export of closed hazards", None, "", note="not available"))
        return figures, rows
    filters = {"status": ["closed"]}
    expected = ctx.query("SELECT count(*) FROM hazards WHERE status = 'closed'")[0][0]
    ceiling = ceilings.xlsx(ctx.bench_url, filters, WORK / "ceiling-ledger.xlsx")
    out = WORK / "anxun-ledger.xlsx"
    before = ctx.server.memory()
    exact = ctx.server.reset_peaks()
    t0 = time.perf_counter()
    reply = _download_export(desk, "/api/v1/hazards/export.xlsx?status=closed", out)
    wall = time.perf_counter() - t0
    after = ctx.server.memory()
    growth = max(after[pid]["peak_mb"] - before.get(pid, {"rss_mb": after[pid]["peak_mb"]})["rss_mb"] for pid in after)
    rows_written = _xlsx_rows(out) if reply.status == 200 else None
    figures["xlsx"] = {
        "expected_rows": expected,
        "rows": rows_written,
        "status": reply.status,
        "seconds": round(wall, 2),
        "first_byte_seconds": reply.first_byte_seconds,
        "bytes": reply.headers.get("x-bytes"),
        "content_type": reply.headers.get("content-type"),
        "workers_before": before,
        "workers_after": after,
        "peak_reset_exact": exact,
        "worker_rss_growth_mb": round(growth, 1),
        "ceiling": ceiling,
    }
    ok = reply.status == 200 and rows_written is not None and rows_written >= expected
    rows.append(
        Row(
            "ledger",
            f"xlsx export, {expected:,} rows",
            round(wall, 2),
            "s",
            ceiling.get("seconds"),
            "time",
            "< 60 s, streamed",
            ok and wall < 60 and growth < 100,
            note=f"worker peak +{growth:.0f} MB (ceiling process +{ceiling.get('rss_growth_mb', '?')} MB); "
            f"first byte {reply.first_byte_seconds or 0:.1f} s; {rows_written} data rows",
        )
    )
    first_byte = reply.first_byte_seconds
    rows.append(
        Row(
            "ledger",
            f"xlsx export, {expected:,} rows: first byte",
            round(first_byte, 2) if first_byte is not None else None,
            "s",
            None,
            "time",
            "< 5 s (issue 23)",
            reply.status == 200 and first_byte is not None and first_byte < 5,
        )
    )
    rows.append(
        Row(
            "ledger",
            "xlsx export: worker peak RSS growth",
            round(growth, 1),
            "MB",
            ceiling.get("rss_growth_mb"),
            "time",
            "streams (< 100 MB)",
            growth < 100,
        )
    )
    return figures, rows


def _download_export(client: Client, path: str, out) -> object:
    """GET the export; follow an asynchronous job (202 + Location) to its file when the API works that way."""
    reply = client.drain("GET", path, save_to=out)
    deadline = time.monotonic() + 600
    while reply.status in (202, 303) and time.monotonic() < deadline:
        location = reply.headers.get("location")
        if not location:
            break
        time.sleep(0.5)
        reply = client.drain("GET", location, save_to=out)
    return reply


def _xlsx_rows(path) -> int | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book.worksheets[0]  # the ledger; the second sheet describes the export
        count = max(0, (sheet.max_row or 0) - 1)
        if not count:  # a sheet without a stored dimension: count the rows
            count = sum(1 for _ in sheet.iter_rows()) - 1
        book.close()
        return count
    except Exception:
        return None


# --------------------------------------------------------------------------- 7. reads (one record)


def _closed_loop(base: str, path: str, token: str | None, connections: int, seconds: float) -> dict:
    """``connections`` clients each sending ``GET path`` back to back for ``seconds``: requests/s."""
    counts, statuses = [0] * connections, {}
    lock = threading.Lock()
    deadline = [0.0]

    def one(n):
        client = Client(base, token)
        while time.perf_counter() < deadline[0]:
            reply = client.get(path)
            counts[n] += 1
            if reply.status != 200:
                with lock:
                    statuses[reply.status] = statuses.get(reply.status, 0) + 1

    deadline[0] = time.perf_counter() + seconds + 0.05  # set before the barrier releases the clients
    wall = run_together([lambda n=n: one(n) for n in range(connections)])
    return {
        "requests": sum(counts),
        "seconds": round(wall, 3),
        "per_s": round(sum(counts) / wall, 1),
        "not_200": statuses,
    }


def reads(ctx: Context) -> tuple[dict, list[Row]]:
    """An authenticated ``GET /enterprises/{id}`` as a grid worker against a bare Flask app doing one
    pooled ``SELECT 1`` per request under the same gunicorn (workers × threads): five paired runs of
    5 s with 16 connections, alternating, so both see the same machine."""
    if not ctx.has("get", "/api/v1/enterprises/{enterprise_id}"):
        return not_available("reads", "GET /enterprises/{id}")
    from bench.server import Server

    phone = ctx.phones[0]
    path = f"/api/v1/enterprises/{phone.enterprises[0].id}"
    server = ctx.server
    with socket.socket() as probe:  # a free port: the neighbours of ours may be someone else's
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ceiling = Server(
        ctx.bench_url,
        port=port,
        workers=server.workers,
        threads=server.threads,
        photo_root=None,
        log_path=WORK / "ceiling-gunicorn.log",
        app="bench.ceiling_app:app",
    )
    ceiling.start()
    pairs = []
    try:
        for warm in (True, False, False, False, False, False):
            anxun = _closed_loop(ctx.base, path, phone.token, 16, 1 if warm else 5)
            bare = _closed_loop(ceiling.base, "/select1", None, 16, 1 if warm else 5)
            if not warm:
                pairs.append(
                    {"anxun": anxun, "ceiling": bare, "ratio": round(anxun["per_s"] / bare["per_s"], 3), "load": load()}
                )
    finally:
        ceiling.stop()
    ratios = sorted(p["ratio"] for p in pairs)
    median = ratios[len(ratios) // 2]
    middle = pairs[[p["ratio"] for p in pairs].index(median)]
    figures = {
        "path": "/api/v1/enterprises/{id}",
        "connections": 16,
        "seconds": 5,
        "pairs": pairs,
        "ratio_median": median,
        "ratio_range": [ratios[0], ratios[-1]],
    }
    rows = [
        Row(
            "reads",
            "GET /enterprises/{id}, 16 connections: requests/s (median pair)",
            middle["anxun"]["per_s"],
            "/s",
            middle["ceiling"]["per_s"],
            "rate",
            "≥ 40 %",
            median >= 0.4,
            note=f"5 paired 5 s runs: {ratios[0]:.0%}–{ratios[-1]:.0%} of a bare SELECT 1 app",
        )
    ]
    return figures, rows
