"""HTML + CSS → PDF: the templates are files (documents/templates, or a county's own folder named by
ANXUN_DOCUMENT_TEMPLATES searched first), filled with Jinja2 and set by WeasyPrint in Noto CJK
(Debian fonts-noto-cjk). A QR code on each leads to the public verification of the document."""

from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path

import jinja2
import segno
import weasyprint
from PIL import ImageFile

# Importing WeasyPrint tells Pillow, for the whole process, to accept truncated images; the photo
# pipeline (evidence/imaging.py) must refuse them. The only raster images a document embeds are
# signatures, which are PNGs this server wrote (documents/signatures.py).
ImageFile.LOAD_TRUNCATED_IMAGES = False

BUILT_IN = Path(__file__).parent / "templates"


@lru_cache(maxsize=8)
def _environment(override: str | None) -> jinja2.Environment:
    folders = [Path(override)] if override else []
    folders.append(BUILT_IN)
    loader = jinja2.FileSystemLoader([str(f) for f in folders])
    return jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def render_html(
    kind: str, content: dict, *, verify_url: str, template_dir: str | None = None, images: dict[str, str] | None = None
) -> str:
    """``images``: SHA-256 → data URI of the signatures ``content["signatures"]`` names."""
    environment = _environment(template_dir)
    return environment.get_template(f"{kind}.html").render(
        doc=content, verify_url=verify_url, qr=qr_data_uri(verify_url), images=images or {}
    )


def render_pdf(
    kind: str, content: dict, *, verify_url: str, template_dir: str | None = None, images: dict[str, str] | None = None
) -> bytes:
    html = render_html(kind, content, verify_url=verify_url, template_dir=template_dir, images=images)
    # The stylesheet: the county's own when its folder has one, else the built-in one.
    styles = Path(template_dir) if template_dir and (Path(template_dir) / "document.css").exists() else BUILT_IN
    pdf = weasyprint.HTML(string=html, base_url=f"{styles}/").write_pdf()
    # A render leaves reference cycles holding the font files it read (tens of MB of Noto CJK); left to
    # the collector's own pace they pile up to several hundred MB in a worker before a full collection.
    gc.collect()
    return pdf
