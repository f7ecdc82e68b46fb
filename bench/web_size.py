"""``python -m bench.web_size``: what a phone downloads to open the field app, gzip-compressed as the
server sends it — the app shell (index.html and the scripts and styles it names, which is what the
first load needs) against the budget of issue 18 (≤ 250 KB of JS+CSS), and everything the service
worker precaches for offline use (the pages behind the tabs, Leaflet, Workbox). Reads web/dist, which
scripts/web.sh builds. Prints a table; ``--json`` for machines. tests/web/test_size.py keeps the budget."""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
SHELL_BUDGET_BYTES = 250 * 1000


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=5))  # Flask-Compress's level (api/app.py)


def shell_files(entry: str = "app") -> list[Path]:
    """index.html's scripts, module preloads and stylesheets: what the first load fetches."""
    folder = DIST / entry
    html = (folder / "index.html").read_text(encoding="utf-8")
    names = re.findall(rf'(?:src|href)="/{entry}/(assets/[^"]+\.(?:js|css))"', html)
    return [folder / name for name in dict.fromkeys(names)]


def report(entry: str = "app") -> dict:
    folder = DIST / entry
    shell = shell_files(entry)
    assets = sorted(p for p in (folder / "assets").iterdir() if p.suffix in (".js", ".css"))
    shell_gzip = sum(gzipped(p) for p in shell)
    return {
        "entry": entry,
        "shell": {p.name: {"bytes": p.stat().st_size, "gzip": gzipped(p)} for p in shell},
        "shell_gzip_bytes": shell_gzip,
        "shell_budget_bytes": SHELL_BUDGET_BYTES,
        "within_budget": shell_gzip <= SHELL_BUDGET_BYTES,
        "all_assets_gzip_bytes": sum(gzipped(p) for p in assets),
        "assets": len(assets),
    }


def main(argv: list[str]) -> int:
    if not (DIST / "app" / "index.html").is_file():
        print("web/dist is not built: run scripts/web.sh", file=sys.stderr)
        return 1
    result = report()
    if "--json" in argv:
        print(json.dumps(result, indent=1))
        return 0
    for name, size in result["shell"].items():
        print(f"  {name:<40} {size['bytes'] / 1000:8.1f} KB  gzip {size['gzip'] / 1000:7.1f} KB")
    print(
        f"app shell (first load, gzip): {result['shell_gzip_bytes'] / 1000:.1f} KB of {SHELL_BUDGET_BYTES / 1000:.0f} KB budget"
        f" — {'within' if result['within_budget'] else 'OVER'}"
    )
    print(
        f"everything precached for offline ({result['assets']} JS/CSS files, gzip): {result['all_assets_gzip_bytes'] / 1000:.1f} KB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
