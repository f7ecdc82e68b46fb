"""What any input must be before a schema looks at it (README, "What the API accepts").

JSON nests at most :data:`MAX_DEPTH` levels (deeper, the parser or the recursive code after it
would overflow the stack). No text — value or key, body, query or path — holds NUL or a lone
surrogate (PostgreSQL cannot store the one, UTF-8 cannot encode the other); no number is NaN or
infinite (``1e400`` parses as infinity) or an integer past 64 bits (PostgreSQL's ``bigint``).
The REST parser (api/inputs.py) and the push check with these functions: :func:`read_json` judges a
body as it parses it, and only a body it cannot vouch for is walked (the push then change by change,
so that one bad change is refused alone)."""

from __future__ import annotations

import json
import math
import re
from typing import Any, NamedTuple

from core.errors import DomainError, FieldError

MAX_DEPTH = 32
INT_LIMIT = 2**63

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class BadJson(DomainError):
    status = 400
    code = "bad_json"
    title = "请求体不是有效的 JSON"


# A NUL or surrogate written as an escape: with the text strict UTF-8 (no raw surrogate) and JSON
# allowing no raw control character in strings, the only way either gets into a parsed value.
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class Json(NamedTuple):
    """A parsed body, and whether the parse showed that nothing in it is unstorable (most bodies: then
    nobody need walk its values for NUL, surrogates and out-of-range numbers)."""

    value: Any
    storable: bool


def read_json(raw: bytes | bytearray | str) -> Json:
    """The JSON value of ``raw``; BadJson when it is not JSON or nests deeper than MAX_DEPTH. Its numbers
    are judged as the parser meets them and its text searched for bad escapes, which costs far less than
    walking every value afterwards."""
    text = raw
    if not isinstance(raw, str) and json.detect_encoding(raw) == "utf-8":
        try:
            text = raw.decode("utf-8")  # strict: a surrogate encoded in the bytes goes the long way
        except UnicodeDecodeError:
            pass
    out_of_range: list[str] = []

    def parse_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):  # 1e400
            out_of_range.append(token)
        return value

    def parse_int(token: str) -> int:
        value = int(token)
        if not -INT_LIMIT <= value < INT_LIMIT:
            out_of_range.append(token)
        return value

    def parse_constant(token: str) -> float:  # NaN, Infinity, -Infinity
        out_of_range.append(token)
        return float(token)

    try:
        value = json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=parse_constant)
    except RecursionError as err:
        raise BadJson(f"JSON 嵌套超过 {MAX_DEPTH} 层") from err
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4300 digits
        raise BadJson(f"JSON 无效：{err}") from err
    if _depth(value) > MAX_DEPTH:
        raise BadJson(f"JSON 嵌套超过 {MAX_DEPTH} 层")
    return Json(value, isinstance(text, str) and not out_of_range and _BAD_ESCAPE.search(text) is None)


def _depth(value) -> int:
    """How deep containers nest (a scalar: 0); stops looking past MAX_DEPTH + 1."""
    if type(value) is not dict and type(value) is not list:
        return 0
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:  # json.loads makes no subclasses
                stack.append((child, depth + 1))
    return deepest


def shown(text: str) -> str:
    """``text`` with its unstorable characters written as JSON escapes, safe to answer with."""
    return _BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def bad_text(text: str) -> bool:
    return _BAD_TEXT.search(text) is not None


def _storable(value) -> bool:
    """Whether ``unstorable`` would find nothing: the same walk without building any path (a push
    checks every text of every change; paths are only needed when something is wrong)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in node:
                if _BAD_TEXT.search(key) is not None:
                    return False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if _BAD_TEXT.search(node) is not None:
                return False
        elif isinstance(node, float):
            if not math.isfinite(node):
                return False
        elif isinstance(node, int) and not isinstance(node, bool):
            if not -INT_LIMIT <= node < INT_LIMIT:
                return False
    return True


def unstorable(value, prefix: str = "") -> list[FieldError]:
    """One FieldError per text, key or number in ``value`` that cannot be stored (field = dotted path)."""
    if _storable(value):
        return []
    errors: list[FieldError] = []
    stack = [(value, prefix)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{shown(key)}" if path else shown(key)
                if bad_text(key):
                    errors.append(
                        FieldError("validation.text", child_path, "字段名含有空字符（NUL）或无效的 Unicode 代理字符")
                    )
                stack.append((child, child_path))
        elif isinstance(node, list):
            stack.extend((child, f"{path}.{n}" if path else str(n)) for n, child in enumerate(node))
        elif isinstance(node, str):
            if bad_text(node):
                errors.append(
                    FieldError("validation.text", path or None, "文本含有空字符（NUL）或无效的 Unicode 代理字符")
                )
        elif isinstance(node, float):
            if not math.isfinite(node):
                errors.append(FieldError("validation.number", path or None, "数值须为有限数（不能是 NaN 或无穷大）"))
        elif isinstance(node, int) and not isinstance(node, bool):
            if not -INT_LIMIT <= node < INT_LIMIT:
                errors.append(FieldError("validation.number", path or None, "整数超出 64 位范围"))
    return sorted(errors, key=lambda e: e.field or "")
