"""The table (stdout) and the JSON (bench/results/) of one run, with the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import datetime
from pathlib import Path

from bench.stats import load


def machine(bench_url: str | None = None) -> dict:
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_at_start": load(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["memory_gib"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 2**20, 1)
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        info["cpu"] = model.group(1).strip() if model else platform.processor()
    except (OSError, AttributeError):
        pass
    if bench_url:
        import psycopg2

        from bench.dataset import dsn

        try:
            with psycopg2.connect(dsn(bench_url)) as conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT version(), postgis_lib_version(), current_setting('shared_buffers'), "
                    "current_setting('synchronous_commit')"
                )
                version, postgis, shared_buffers, sync = cur.fetchone()
                info["postgresql"] = version.split(" on ")[0]
                info["postgis"] = postgis
                info["shared_buffers"] = shared_buffers
                info["synchronous_commit"] = sync
        except psycopg2.Error:
            pass
    return info


def fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        value = round(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        text = f"{int(value):,}"
    elif isinstance(value, float):
        text = f"{value:.3g}" if value < 10 else f"{value:.1f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def ratio_text(row) -> str:
    r = row.ratio
    if r is None:
        return ""
    return f"{r * 100:.0f} % of" if row.kind == "rate" else f"{r:.1f}×"


def table(rows) -> str:
    header = ("section", "measure", "AnXun", "ceiling", "ratio", "target", "met", "load", "note")
    lines = [header]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "NO")
        lines.append(
            (
                row.section,
                row.metric,
                fmt(row.value, row.unit),
                fmt(row.ceiling, row.unit),
                ratio_text(row),
                row.target,
                met,
                f"{row.load1:.1f}",
                row.note,
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + str(line[-1]))
        if n == 0:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(out)


def write(results: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"bench-{stamp}-scale{results['sizes']['scale']}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    return path
