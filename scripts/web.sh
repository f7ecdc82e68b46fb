#!/usr/bin/env bash
# Builds the web apps (web/ → web/dist/{app,console,open}) that Flask serves at /app/, /console/, /open/.
# Node.js and npm come from the machine (Debian's nodejs/npm installed as root when missing); packages
# from the committed web/package-lock.json (npm ci); the typed API client from the OpenAPI document
# (python -m api.document, openapi-typescript). Each step is skipped when its inputs have not changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="${VENV:-.venv}"
WEB="$ROOT/web"
# Vite 8 and vite-plugin-pwa 2 (Workbox 7) need Node.js 20.19 or newer.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19

say() { echo "[web] $*" >&2; }

node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null || return 1
  local version major minor
  version=$(node --version | sed 's/^v//')
  major=${version%%.*}
  minor=$(echo "$version" | cut -d. -f2)
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

if ! node_ok; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian packages nodejs npm (apt-get) ..."
      export DEBIAN_FRONTEND=noninteractive
      apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
      missing=()
      command -v node >/dev/null || missing+=(nodejs)
      command -v npm >/dev/null || missing+=(npm)
      apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
      say "the web apps need Node.js and npm. Install them, then run this again:"
      say "    sudo apt-get install -y nodejs npm"
      exit 1
    fi
  fi
  if ! node_ok; then
    say "Node.js $(node --version 2>/dev/null || echo '?') is too old: the web build (Vite 8) needs ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer"
    say "(Debian 13's nodejs, or the NodeSource packages for Debian 12)."
    exit 1
  fi
fi

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# 1. Packages, exactly as the lockfile says, when the lockfile changed.
lock_hash=$(hash_of web/package-lock.json web/package.json)
if [ "$(cat "$WEB/node_modules/.anxun-lock.sha256" 2>/dev/null)" != "$lock_hash" ]; then
  say "npm ci (web/package-lock.json) ..."
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_hash" > "$WEB/node_modules/.anxun-lock.sha256"
fi

# 2. The OpenAPI document, and the TypeScript types generated from it when it changed.
mkdir -p "$WEB/shared/generated"
"$VENV/bin/python" -m api.document "$WEB/shared/generated/openapi.json.new" 2>/dev/null
if ! cmp -s "$WEB/shared/generated/openapi.json.new" "$WEB/shared/generated/openapi.json" \
    || [ ! -f "$WEB/shared/generated/openapi.d.ts" ]; then
  mv "$WEB/shared/generated/openapi.json.new" "$WEB/shared/generated/openapi.json"
  say "generating the typed API client (openapi-typescript) ..."
  (cd "$WEB" && npm run --silent types >/dev/null 2>&1) || (cd "$WEB" && npm run types >&2)
else
  rm -f "$WEB/shared/generated/openapi.json.new"
fi

# 3. The build, when any source, the lockfile or the document changed.
sources_hash=$(cd "$WEB" && find . \( -path ./node_modules -o -path ./dist \) -prune -o -type f \
  ! -name '.build-stamp' -print | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$WEB/dist/.build-stamp" 2>/dev/null)" != "$sources_hash" ]; then
  say "building the web apps (type check, vite build) ..."
  (cd "$WEB" && npm run --silent build >&2)
  echo "$sources_hash" > "$WEB/dist/.build-stamp"
fi
