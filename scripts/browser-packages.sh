#!/usr/bin/env bash
# Debian's Chromium for the browser tests of the web apps (tests/web, Playwright with
# executable_path=/usr/bin/chromium: Playwright's own browser download is never used). Installed as
# root with apt-get; otherwise the line to run is printed and the tests stop.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing Debian package chromium (apt-get) ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium >&2
else
  echo "[setup] the browser tests need Debian's chromium. Install it, then run this again:" >&2
  echo "[setup]     sudo apt-get install -y chromium" >&2
  exit 1
fi
