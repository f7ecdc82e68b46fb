#!/usr/bin/env bash
# make test: database server (private cluster unless DATABASE_URL is set), then pytest on a throwaway database.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"

# Chromium for the browser tests (tests/web).
scripts/browser-packages.sh
# Lint first: a name that does not exist, or a file not in the house format, fails in a second, not after the suite.
"$VENV/bin/ruff" check --quiet .
"$VENV/bin/ruff" format --check --quiet . || { echo "ruff: files above are not formatted; run: .venv/bin/ruff format ." >&2; exit 1; }

source scripts/database.sh
use_database
# The tests create (and drop) their own database on this server; they never touch this one's data.
export ANXUN_TEST_DATABASE_URL="$DATABASE_URL"
unset DATABASE_URL
"$VENV/bin/python" -m pytest "$@"
