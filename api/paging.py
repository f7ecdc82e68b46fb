"""``Link`` headers (RFC 8288: first, prev, next, last) on every paged list, beside the body's
``page``, ``per_page`` and ``total``; the other query parameters (filters, sort) are kept."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import request

LINK_HEADER = {
    "Link": {
        "description": "RFC 8288：first、prev、next、last 各页的地址（筛选条件不变）",
        "schema": {"type": "string"},
    }
}


def page_links(page: int, per_page: int, total: int) -> str:
    last = max(1, -(-total // per_page))
    targets = {"first": 1, "last": last}
    if page > 1:
        targets["prev"] = min(page - 1, last)
    if page < last:
        targets["next"] = page + 1
    return ", ".join(f'<{_url_of(number)}>; rel="{rel}"' for rel, number in targets.items())


def _url_of(page: int) -> str:
    args = request.args.copy()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"


def linked_pages(blp):
    """Under ``blp.response``: the view's answer (a dict with page, per_page, total) gets its Link header,
    and the document says so."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            answer = view(*args, **kwargs)
            return answer, {"Link": page_links(answer["page"], answer["per_page"], answer["total"])}

        return blp.doc(responses={200: {"headers": LINK_HEADER}})(wrapper)

    return decorator
