"""What every request must be before a schema looks at it (core/inputs.py has the rules).

``Blueprint`` is flask-smorest's with a parser that reads JSON bodies through
``core.inputs.parse_json`` (400 when deeper than allowed) and refuses unstorable text and numbers
field by field (422); every resource's routes use it. ``refuse_unstorable_url`` does the same for
the path and the query string of every request."""
from __future__ import annotations

import flask_smorest
from flask import request
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser, is_json_request

from core.errors import FieldError, ValidationFailed
from core.inputs import bad_text, parse_json, shown, unstorable


class InputParser(FlaskParser):
    def load_json(self, req, schema):
        if not is_json_request(req):
            return missing
        raw = req.get_data(cache=True)
        if not raw:
            return missing
        value = parse_json(raw)
        errors = unstorable(value)
        if errors:
            raise ValidationFailed(errors=errors)
        return value


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InputParser()


def refuse_unstorable_url() -> None:
    """before_request: no NUL (``%00``) in the path's parameters or the query string."""
    values = list((request.view_args or {}).items()) + list(request.args.items(multi=True))
    errors = [FieldError("validation.text", shown(name), "含有空字符（NUL）或无效的 Unicode 代理字符")
              for name, value in values
              if isinstance(value, str) and (bad_text(value) or bad_text(name))]
    if errors:
        raise ValidationFailed(errors=errors)
