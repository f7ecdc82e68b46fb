#!/usr/bin/env bash
# Creates the virtualenv in .venv and installs the pinned requirements (once per requirements change).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "[setup] installing python3-venv (apt-get) ..." >&2
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq python3-venv >&2
      "$PYTHON" -m venv "$VENV"
    else
      echo "[setup] '$PYTHON -m venv' failed. Install it, then run again:  sudo apt-get install -y python3-venv" >&2
      exit 1
    fi
  fi
fi
stamp="$VENV/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing Python requirements into $VENV ..." >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt >&2
  echo "$want" > "$stamp"
fi
# Debian packages of the enforcement documents (fonts, PDF tools), installed or named like pg.sh's.
scripts/doc-packages.sh
# The web apps (web/ → web/dist): Node.js and npm, npm ci from the lockfile, the typed client, vite build.
scripts/web.sh
