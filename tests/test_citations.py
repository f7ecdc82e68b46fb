"""Documents the code cites are in the repo: every ``*.md`` named in a docstring or comment is a file of
the checkout (a bare name is under docs/), and the copies of the shared documents under docs/ are kept
in step with the ones beside the checkout (the team's shared/ folder, when present)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
COPIES = {
    "SYNC_PROTOCOL.md": "docs/SYNC_PROTOCOL.md",
    "DESIGN.md": "docs/DESIGN.md",
    "reference/REGULATIONS.md": "docs/reference/REGULATIONS.md",
}
CITED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")


def _python_sources():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0].startswith(".") or "node_modules" in rel.parts or rel.parts[0] in ("var", "web"):
            continue
        yield rel, path.read_text(encoding="utf-8")


def _exists(cited: str) -> bool:
    return any((base / cited).exists() for base in (ROOT, ROOT / "docs"))


def test_every_cited_document_is_in_the_repo():
    missing = sorted(
        {f"{rel}: {name}" for rel, text in _python_sources() for name in CITED.findall(text) if not _exists(name)}
    )
    assert missing == []


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/ folder beside this checkout")
@pytest.mark.parametrize("shared, copy", sorted(COPIES.items()))
def test_docs_copy_matches_the_shared_document(shared, copy):
    assert (ROOT / copy).read_text(encoding="utf-8") == (SHARED / shared).read_text(encoding="utf-8")


@pytest.mark.skipif(not (SHARED / "reference" / "seeds").exists(), reason="no shared/ folder beside this checkout")
def test_docs_copy_of_the_work_plans_matches():
    shared = {p.name: p.read_bytes() for p in (SHARED / "reference" / "seeds").iterdir()}
    assert {p.name: p.read_bytes() for p in (ROOT / "docs" / "reference" / "seeds").iterdir()} == shared
