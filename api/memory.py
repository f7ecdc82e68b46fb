"""The garbage collector set for a server of batches (wsgi.py calls :func:`tune_garbage_collector` once
the app is built).

A 500-change push allocates about a million container objects (parsed JSON, loaded schemas, rows),
nearly all freed by reference counting as the request ends. With CPython's default thresholds
(700, 10, 10) the cyclic collector ran ≈ 330 young, 30 middle and 2–3 full collections for each such
batch, every full one walking every object of the app (SQLAlchemy's mappers, marshmallow's schemas,
the checklists): ≈ 0.45 s of a 1.3 s batch (docs/performance.md). Objects made at start-up live as
long as the worker, so they are frozen out of every collection, and the young generation may grow
to tens of thousands of objects before it is looked at; cycles are still collected, later."""

from __future__ import annotations

import gc

# Allocations (less deallocations) before a young collection; then young collections before a middle
# one, middle before a full one. Measured on a bench batch: ≈ 17 young and no full collection a batch.
THRESHOLDS = (50_000, 20, 20)


def tune_garbage_collector() -> None:
    gc.collect()  # what start-up left as garbage is not frozen with the rest
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
