#!/usr/bin/env bash
# make run: database (private cluster unless DATABASE_URL is set), migrations, demo data, gunicorn on :8000
# and the job scheduler beside it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"

source scripts/database.sh
use_database
export DATABASE_URL
"$VENV/bin/flask" --app wsgi anxun migrate
"$VENV/bin/flask" --app wsgi anxun checklists-publish
"$VENV/bin/flask" --app wsgi anxun demo
echo
echo "AnXun API on http://localhost:${ANXUN_PORT:-8000}/api/v1/health  (OpenAPI: /api/v1/openapi.json, docs: /api/v1/docs)"
echo "Field app for phones: http://localhost:${ANXUN_PORT:-8000}/app/  (desk console: /console/, public pages: /open/)"
echo "Ctrl-C stops it."
# The job scheduler (README "Scheduled jobs"), stopped together with the API.
"$VENV/bin/flask" --app wsgi anxun scheduler &
SCHEDULER=$!
trap 'kill "$SCHEDULER" 2>/dev/null; wait "$SCHEDULER" 2>/dev/null; if [ -n "$STOP_DB" ]; then scripts/pg.sh stop; fi' EXIT
# The worker class and the settings every server shares are in config/gunicorn.py.
"$VENV/bin/gunicorn" --config config/gunicorn.py --bind "${ANXUN_BIND:-127.0.0.1}:${ANXUN_PORT:-8000}" \
  --workers "${ANXUN_WORKERS:-2}" --threads "${ANXUN_THREADS:-4}" \
  --access-logfile - wsgi:app
