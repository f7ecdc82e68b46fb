#!/usr/bin/env bash
# make bench: the county-scale benchmark (bench/), on its own database anxun_bench of the private cluster
# (or of the server DATABASE_URL names), against its own gunicorn. Never touches the demo data or the tests.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"

if [ -z "${DATABASE_URL:-}" ]; then
  if ! scripts/pg.sh status >/dev/null 2>&1; then trap 'scripts/pg.sh stop' EXIT; fi
  DATABASE_URL=$(ANXUN_PG_DB=anxun_bench scripts/pg.sh ensure)
fi
export DATABASE_URL
"$VENV/bin/python" -m bench.run
