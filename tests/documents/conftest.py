"""Documents are issued from real records: the inspection builders and hazard steps of tests/inspections."""

import subprocess

import pytest

from tests.inspections.conftest import first_items, inspection_body, template_of  # noqa: F401
from tests.inspections.test_hazard_lifecycle import FIVE, PHOTO, _order, _transition, raise_hazards  # noqa: F401


def pdf_text(pdf: bytes, *, layout: bool = True) -> str:
    """The text of a PDF as poppler reads it (pdftotext, Debian poppler-utils); without ``layout`` in the
    order it was drawn, so a table's cells do not interleave with their neighbours' lines."""
    mode = ["-layout"] if layout else ["-raw"]
    return subprocess.run(["pdftotext", *mode, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def issue(client, login):
    """``issue(username, "hazards", hazard_id, kind, **extra)`` → the response of issuing a document."""

    def post(username, plural, record_id, kind, **extra):
        return client.post(
            f"/api/v1/{plural}/{record_id}/documents", headers=login(username), json={"kind": kind, **extra}
        )

    return post
