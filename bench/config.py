"""How big the county is and how hard each section pushes: one scale knob (``ANXUN_BENCH_SCALE``,
1.0 = the county of issue 9) and a few overrides for development."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"  # photos, gunicorn log, scratch files of the ceilings

BENCH_DB = "anxun_bench"
BENCH_PASSWORD = "anxun-bench"


def _scaled(full: int, scale: float, minimum: int) -> int:
    return max(minimum, int(round(full * scale)))


@dataclass(frozen=True)
class Sizes:
    scale: float
    villages: int
    towns: int
    enterprises: int
    workers: int
    hazards: int
    # Load generated against the server.
    batch_changes: int = 500
    push_phones: tuple[int, ...] = (1, 8, 32)
    push_batches: dict = field(default_factory=dict)  # phones -> batches per phone
    pull_phones: int = 32
    incremental_rounds: int = 10
    photos_sequential: int = 8
    photos_concurrent: int = 16
    photo_concurrency: int = 4
    redraw_grids: int = 50
    ledger_requests: int = 20
    max_batch_changes: int = 1000

    @classmethod
    def from_env(cls, env=os.environ) -> "Sizes":
        scale = float(env.get("ANXUN_BENCH_SCALE", "1") or 1)
        if not 0 < scale <= 4:
            raise SystemExit("ANXUN_BENCH_SCALE must be in (0, 4]")
        villages = _scaled(5000, scale, 40)
        workers = _scaled(1000, scale, 8)
        # Small scales keep every phone busy but send fewer batches; full scale sends enough
        # changes per level for a rate that is not dominated by its first and last batch, and as many
        # batches with 8 phones as with 32 (32 each): the two saturated levels are compared.
        small = scale < 0.5
        push_batches = {1: 2 if small else 4, 8: 1 if small else 4, 32: 1}
        return cls(
            scale=scale,
            villages=villages,
            towns=max(2, int(round(villages / 200))),
            enterprises=_scaled(100_000, scale, 400),
            workers=workers,
            hazards=_scaled(200_000, scale, 800),
            batch_changes=int(env.get("ANXUN_BENCH_BATCH", "500")),
            push_phones=tuple(int(n) for n in env.get("ANXUN_BENCH_PUSH_PHONES", "1,8,32").split(",")),
            push_batches=push_batches,
            photos_sequential=4 if small else 8,
            photos_concurrent=8 if small else 16,
            redraw_grids=min(50, 2 * (villages // 8)),
            incremental_rounds=5 if small else 10,
        )

    @property
    def grids_per_worker(self) -> int:
        return max(1, math.ceil(self.villages / self.workers))
