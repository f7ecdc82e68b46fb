"""The repo's copy of the phone ↔ server contract is kept in step with the shared one."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "SYNC_PROTOCOL.md"


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/ folder beside this checkout")
def test_docs_copy_matches_the_shared_contract():
    assert (ROOT / "docs" / "SYNC_PROTOCOL.md").read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")
