#!/usr/bin/env bash
# make bench: the county-scale benchmark (bench/), on its own database anxun_bench of the private cluster
# (or of the server DATABASE_URL names), against its own gunicorn. Never touches the demo data or the tests.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"

source scripts/database.sh
use_database anxun_bench
export DATABASE_URL
"$VENV/bin/python" -m bench.run
