"""The soak (bench/soak.py), small, in ``make test``: phones of the reference client through a relay that
loses and cuts answers, a gunicorn worker killed with requests in flight and PostgreSQL crashed
mid-push on a cluster of the test's own; then nothing lost, nothing applied twice, every phone equal
to a fresh pull of its user. ``make soak`` runs it with 24 phones for 150 s."""

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.soak import Plan, run

ROOT = Path(__file__).resolve().parents[2]


def test_phones_converge_through_lost_answers_worker_kills_and_a_database_crash():
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("no PostgreSQL server binaries here to run a cluster the test may crash")
    plan = Plan(phones=6, seconds=20, worker_kills=1, db_restarts=1, fault_rate=0.15, seed=15)
    figures = run(plan, ROOT / "var" / "fault-test", log=lambda message: None)
    summary = asdict(figures)
    assert figures.recorded > 30 and figures.applied > 15, summary  # the field work really happened
    assert figures.worker_kills == 1 and figures.db_restarts == 1, summary
    assert sum(figures.faults.values()) > 0, summary
    assert figures.still_queued == 0, summary
    assert figures.lost == 0 and figures.duplicated == 0, summary
    assert figures.phones_converged == plan.phones, summary
