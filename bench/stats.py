"""Percentiles, the load on the machine, and starting work at once: for every figure the benchmark reports."""

from __future__ import annotations

import math
import os
import threading
import time


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): with few samples, p99 is the slowest one, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(seconds: list[float]) -> dict:
    """Latencies in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(sum(ms) / len(ms), 2),
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_together(targets) -> float:
    """Start every callable at once (a barrier), return the wall time until the last finishes."""
    barrier = threading.Barrier(len(targets) + 1)
    errors = []

    def wrap(fn):
        barrier.wait()
        try:
            fn()
        except Exception as err:  # reported, never swallowed
            errors.append(err)

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in targets]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0
