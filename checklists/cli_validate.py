"""Validate the checklist template files: ``python -m checklists.cli_validate [directory]``.

A plain function so the project CLI (flask command or script) can wrap it; exit status 0 when
every file is valid, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence, TextIO

from .definition import DEFAULT_DIRECTORY, content_hash, load_all, validate_all


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0]) if args else DEFAULT_DIRECTORY
    problems = validate_all(directory)
    if problems:
        for line in problems:
            print(line, file=out)
        print(f"{len(problems)} 处问题", file=out)
        return 1
    for t in load_all(directory):
        majors = sum(i.major for i in t.items)
        print(
            f"{t.code} v{t.version} [{t.status}] 条目 {len(t.items)}，重大 {majors}，sha256 {content_hash(t)}", file=out
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
