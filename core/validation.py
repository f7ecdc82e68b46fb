"""marshmallow's error messages as one FieldError per field, in Chinese: shared by the API's
problem+json answers and sync's per-change results."""

from __future__ import annotations

import re

from core.errors import FieldError

# marshmallow's default messages, for people who read Chinese.
_MESSAGES = [
    (r"^Missing data for required field\.$", "缺少必填字段"),
    (r"^Unknown field\.$", "未知字段"),
    (r"^Field may not be null\.$", "不能为空值"),
    (r"^Not a valid string\.$", "不是有效的字符串"),
    (r"^Not a valid integer\.$", "不是有效的整数"),
    (r"^Not a valid number\.$", "不是有效的数字"),
    (r"^Not a valid boolean\.$", "不是有效的布尔值"),
    (r"^Not a valid UUID\.$", "不是有效的 UUID"),
    (r"^Not a valid datetime\.$", "不是有效的时间（需 RFC 3339 格式）"),
    (r"^Not a valid date\.$", "不是有效的日期"),
    (r"^Not a valid aware datetime\.$", "须为带时区偏移的时间（RFC 3339）"),
    (r"^Not a valid list\.$", "不是有效的列表"),
    (r"^Not a valid mapping type\.$", "不是有效的对象"),
    (r"^Invalid input type\.$", "类型不正确"),
    (r"^Must be one of: (.*)\.$", r"必须是以下之一：\1"),
    (r"^Shorter than minimum length (\d+)\.$", r"长度不能少于 \1"),
    (r"^Longer than maximum length (\d+)\.$", r"长度不能超过 \1"),
    (r"^Length must be between (\d+) and (\d+)\.$", r"长度须在 \1 到 \2 之间"),
    (r"^Must be greater than or equal to (\S+)\.$", r"不能小于 \1"),
    (r"^Must be less than or equal to (\S+)\.$", r"不能大于 \1"),
    (r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$", r"须在 \1 到 \2 之间"),
    (r"^String does not match expected pattern\.$", "格式不正确"),
    (r"^Invalid value\.$", "取值无效"),
]


def chinese(message: str) -> str:
    for pattern, replacement in _MESSAGES:
        if re.match(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


def flatten_messages(messages, prefix: str = "") -> list[FieldError]:
    """marshmallow's nested ``{"field": ["msg"], "list": {0: {...}}}`` as one error per field."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                key_path = prefix or None
                for msg in value if isinstance(value, list) else [value]:
                    out.extend(flatten_messages(msg, prefix))
                continue
            key_path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, key_path))
    elif isinstance(messages, list):
        for item in messages:
            if isinstance(item, (dict, list)):
                out.extend(flatten_messages(item, prefix))
            else:
                out.append(FieldError("validation", prefix or None, chinese(str(item))))
    else:
        out.append(FieldError("validation", prefix or None, chinese(str(messages))))
    return out
