"""Answers that are files to keep: their ``Content-Disposition``."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def attachment(filename: str) -> str:
    """``attachment`` with the name as every browser reads it: an ASCII ``filename`` for old clients and
    the real (Chinese) name as RFC 6266 ``filename*`` — as Flask's send_file writes it, for answers
    that are streamed rather than sent from a file."""
    simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii").replace('"', "")
    return f"attachment; filename=\"{simple}\"; filename*=UTF-8''{quote(filename, safe='!#$&+^`|~')}"
