"""What every request must be before a schema looks at it (core/inputs.py has the rules).

``Blueprint`` is flask-smorest's with a parser that reads JSON bodies through
``core.inputs.read_json`` (400 when deeper than allowed) and refuses unstorable text and numbers
field by field (422), and with If-Match optional on its ETag-checked writes (README, "Conventions
of the answers"); every resource's routes use it. ``refuse_unstorable_url`` does the same for
the path and the query string of every request."""

from __future__ import annotations

import flask_smorest
from flask import Response, abort, request
from flask_smorest.exceptions import PreconditionFailed
from flask_smorest.utils import get_appcontext, resolve_schema_instance
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser, is_json_request

from core.errors import FieldError, ValidationFailed
from core.inputs import bad_text, read_json, shown, unstorable


class InputParser(FlaskParser):
    def load_json(self, req, schema):
        if not is_json_request(req):
            return missing
        raw = req.get_data(cache=True)
        if not raw:
            return missing
        body = read_json(raw)
        errors = [] if body.storable else unstorable(body.value)
        if errors:
            raise ValidationFailed(errors=errors)
        return body.value


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "可选：GET 得到的 ETag；记录已被修改则 412。不带时以请求体的 version 为准",
}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InputParser()
    # A hazard's transitions are POSTs to the hazard's /transitions: an ETag-checked write like a PATCH.
    METHODS_NEEDING_CHECK_ETAG = ["PUT", "PATCH", "DELETE", "POST"]

    def _check_precondition(self):
        """If-Match is optional (never 428): every write also carries the record's ``version``, which
        clients written before ETags send alone."""

    def check_etag(self, etag_data, etag_schema=None):
        """412 when If-Match names another state of the record. A tag Flask-Compress suffixed with the
        encoding of the answer that carried it (``"…:gzip"``) names the same state."""
        get_appcontext().setdefault("etag", {})["etag_checked"] = True
        if not request.if_match or request.if_match.star_tag:
            return
        if etag_schema is not None:
            etag_data = resolve_schema_instance(etag_schema).dump(etag_data)
        given = {tag.split(":")[0] for tag in request.if_match.as_set() if tag}
        if self._generate_etag(etag_data) not in given:
            raise PreconditionFailed

    def _check_not_modified(self, etag):
        """304 with no body and the tag it confirms (RFC 9110 §15.4.5)."""
        if request.method in self.METHODS_CHECKING_NOT_MODIFIED and etag in request.if_none_match:
            not_modified = Response(status=304)
            not_modified.set_etag(etag)
            abort(not_modified)

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        if "IF_MATCH" in doc.get("parameters", []):
            doc["parameters"] = [IF_MATCH if p == "IF_MATCH" else p for p in doc["parameters"]]
            doc["responses"].pop(428, None)
        return doc


def refuse_unstorable_url() -> None:
    """before_request: no NUL (``%00``) in the path's parameters or the query string."""
    values = list((request.view_args or {}).items()) + list(request.args.items(multi=True))
    errors = [
        FieldError("validation.text", shown(name), "含有空字符（NUL）或无效的 Unicode 代理字符")
        for name, value in values
        if isinstance(value, str) and (bad_text(value) or bad_text(name))
    ]
    if errors:
        raise ValidationFailed(errors=errors)
