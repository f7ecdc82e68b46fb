#!/usr/bin/env bash
# Debian packages the enforcement documents need (documents/): fonts-noto-cjk sets the Chinese of the
# PDFs; poppler-utils (pdftotext, pdftoppm) reads them back in the tests and renders docs/documents/*.png.
# WeasyPrint needs Pango and HarfBuzz's subsetter. As root they are installed with apt-get;
# otherwise the line to run is printed and setup stops.
set -euo pipefail

# ldconfig lives in /sbin, which an ordinary user's PATH may lack.
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
missing=()
command -v fc-list >/dev/null || missing+=(fontconfig)
fc-list ':lang=zh' family 2>/dev/null | grep -qi 'Noto .*CJK' || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
"$LDCONFIG" -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0 ' || missing+=(libpangoft2-1.0-0)
# Without HarfBuzz's subsetter WeasyPrint subsets fonts with fontTools, which walks all 65,535 glyphs of a
# CJK font: ten seconds a document instead of a fraction of one.
"$LDCONFIG" -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0 ' || missing+=(libharfbuzz-subset0)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing Debian packages ${missing[*]} (apt-get) ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "[setup] the documents need Debian packages ${missing[*]}. Install them, then run this again:" >&2
  echo "[setup]     sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
