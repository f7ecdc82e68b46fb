"""``make bench``: build the county, start the API, measure every section against its ceiling, print the
table and write the JSON. ``python -m bench.run`` with DATABASE_URL naming the server (scripts/bench.sh
sets it to the private cluster); the benchmark database on that server is always ``anxun_bench``.

Environment:
  ANXUN_BENCH_SCALE    1 (default) = the county of issue 9; 0.05 for quick runs while developing
  ANXUN_BENCH_REUSE    1 = keep an existing anxun_bench built at the same scale (development only:
                       earlier runs' pushes are still in it)
  ANXUN_BENCH_ONLY     comma-separated sections (push,memory,pull,photos,redraw,ledger,reads)
  ANXUN_BENCH_PUSH_PHONES  phones of each push level, in the order they run (default 1,8,32)
  ANXUN_BENCH_PORT     port of the API under test (default 8010)
  ANXUN_WORKERS, ANXUN_THREADS   gunicorn, as for make run (default 2 × 4)"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
import traceback

from bench import dataset, report, sections
from bench.client import Client
from bench.config import RESULTS, WORK, Sizes
from bench.payloads import load_phones, load_templates
from bench.server import Server
from bench.stats import load

SECTIONS = [
    ("push", sections.push),
    ("memory", sections.memory),
    ("pull", sections.pull),
    ("photos", sections.photos),
    ("redraw", sections.redraw),
    ("ledger", sections.ledger),
    ("reads", sections.reads),
]


def log(message: str) -> None:
    print(message, flush=True)


def main() -> int:
    started = time.perf_counter()
    sizes = Sizes.from_env()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("DATABASE_URL is not set: run `make bench` (it starts the private cluster)", file=sys.stderr)
        return 2
    only = {s.strip() for s in os.environ.get("ANXUN_BENCH_ONLY", "").split(",") if s.strip()}
    _, bench_url = dataset.server_and_bench_url(database_url)
    results: dict = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sizes": dataclasses.asdict(sizes),
        "machine": report.machine(),
        "sections": {},
    }
    log(
        f"AnXun benchmark, scale {sizes.scale}: {sizes.villages:,} grids, {sizes.enterprises:,} enterprises, "
        f"{sizes.workers:,} grid workers, {sizes.hazards:,} hazards  (load {load()})"
    )

    if os.environ.get("ANXUN_BENCH_REUSE") == "1" and dataset.existing_scale(bench_url) == sizes.scale:
        from db.migrate import upgrade

        log("dataset: reusing anxun_bench (ANXUN_BENCH_REUSE=1)")
        upgrade(bench_url)  # built by an older checkout: bring its schema up to this one
        results["dataset"] = {"reused": True}
    else:
        log("dataset: building anxun_bench in SQL ...")
        built = dataset.build(database_url, sizes, log=log)
        log(f"dataset built in {built.seconds:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in built.counts.items()))
        results["dataset"] = dataclasses.asdict(built)
        shutil.rmtree(WORK / "photos", ignore_errors=True)  # a new database holds no photos
    results["machine"] = report.machine(bench_url) | {"load_at_start": results["machine"]["load_at_start"]}

    phones = load_phones(bench_url, sizes, max(max(sizes.push_phones), sizes.pull_phones))
    templates = load_templates(bench_url)
    workers = int(os.environ.get("ANXUN_WORKERS") or 2)
    threads = int(os.environ.get("ANXUN_THREADS") or 4)
    server = Server(
        bench_url,
        port=int(os.environ.get("ANXUN_BENCH_PORT") or 8010),
        workers=workers,
        threads=threads,
        photo_root=WORK / "photos",
        log_path=WORK / "gunicorn.log",
    )
    results["server"] = {"workers": workers, "threads": threads, "worker_class": server.worker_class}
    rows = []
    log(f"API: gunicorn {server.worker_class} {workers}×{threads} on {server.base} (log: {server.log_path})")
    server.start()
    try:
        spec = Client(server.base).get("/api/v1/openapi.json").json()
        paths = {path: set(methods) for path, methods in spec.get("paths", {}).items()}
        ctx = sections.Context(
            sizes=sizes,
            bench_url=bench_url,
            base=server.base,
            server=server,
            phones=phones,
            templates=templates,
            paths=paths,
            log=log,
        )
        sections.warm_up(ctx)
        for name, fn in SECTIONS:
            if only and name not in only:
                continue
            log(f"{name} ...  (load {load()})")
            t0 = time.perf_counter()
            try:
                figures, section_rows = fn(ctx)
            except Exception as err:  # one broken section does not lose the others
                traceback.print_exc()
                figures = {"error": f"{type(err).__name__}: {err}"}
                section_rows = [sections.Row(name, "error", None, "", note=f"{type(err).__name__}: {err}"[:200])]
            figures["section_seconds"] = round(time.perf_counter() - t0, 1)
            results["sections"][name] = figures
            rows += section_rows
            for row in section_rows:
                log(
                    f"    {row.metric}: {report.fmt(row.value, row.unit)}"
                    + (
                        f"  (ceiling {report.fmt(row.ceiling, row.unit)}, {report.ratio_text(row)})"
                        if row.ceiling
                        else ""
                    )
                    + (f"  {row.note}" if row.note else "")
                )
    finally:
        results["server"]["memory_at_end"] = server.memory()
        server.stop()
    results["rows"] = [dataclasses.asdict(r) | {"ratio": r.ratio} for r in rows]
    results["load_at_end"] = load()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    path = report.write(results, RESULTS)
    m = results["machine"]
    print()
    print(
        f"AnXun benchmark — scale {sizes.scale}, {m.get('nproc')} cores, {m.get('memory_gib')} GiB, "
        f"{m.get('cpu', '')}; {m.get('postgresql', '')}, PostGIS {m.get('postgis', '')}; "
        f"load {m['load_at_start']} → {results['load_at_end']}"
    )
    print(
        "ratio = AnXun ÷ ceiling: for rates a share of the ceiling, for times a multiple of it; "
        "load = 1-minute load average when the row was measured"
    )
    print()
    print(report.table(rows))
    print()
    print(f"total {results['total_seconds']:.0f} s; results: {path.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
