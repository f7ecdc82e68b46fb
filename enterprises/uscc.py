"""统一社会信用代码 (unified social credit code, USCC) per GB 32100-2015.

18 characters from ``0-9 A-Z`` without I, O, Z, S, V:

====== ==================================================
pos 1  登记管理部门代码 (registration authority): 1–9, A, N, Y
pos 2  机构类别代码 (organisation category)
3–8    登记管理机关行政区划码 (GB/T 2260 division code), digits
9–17   主体标识码 (GB 11714 organisation code)
pos 18 校验码 (check character, GB/T 17710 style mod 31)
====== ==================================================
"""

from __future__ import annotations

import unicodedata

from core.errors import FieldError, ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Weight of position i (from 0) is 3**i mod 31, as tabulated in GB 32100-2015.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_FORBIDDEN = set("IOZSV")

# 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管(工商),
# A 中央军委改革和编制办公室, N 农业, Y 其他.
REGISTRATION_AUTHORITIES = frozenset("123456789ANY")

ERROR_CODE = "enterprise.invalid_uscc"


def _normalise(code: str) -> str:
    # NFKC folds full-width input (“９１３５…”, common from Chinese IMEs) to ASCII.
    return unicodedata.normalize("NFKC", code).strip().upper()


def _fail(message: str, field: str | None) -> ValidationFailed:
    return ValidationFailed(
        f"统一社会信用代码无效：{message}", code=ERROR_CODE, errors=[FieldError(ERROR_CODE, field, message)]
    )


def _bad_char_message(ch: str, position: int) -> str:
    if ch in _FORBIDDEN:
        return f"第 {position} 位“{ch}”不允许使用（统一社会信用代码不使用 I、O、Z、S、V）"
    return f"第 {position} 位含非法字符“{ch}”，只允许数字和大写英文字母（不含 I、O、Z、S、V）"


def uscc_check_char(first17: str) -> str:
    """校验码: the 18th character for the first 17: C18 = 31 − (Σ Ci·Wi mod 31), with 31 → 0."""
    if not isinstance(first17, str):
        raise _fail("应为字符串", None)
    body = _normalise(first17)
    if len(body) != 17:
        raise _fail(f"计算校验码需要前 17 位，实际为 {len(body)} 位", None)
    for i, ch in enumerate(body, 1):
        if ch not in _VALUE:
            raise _fail(_bad_char_message(ch, i), None)
    remainder = sum(_VALUE[ch] * w for ch, w in zip(body, WEIGHTS)) % 31
    return ALPHABET[(31 - remainder) % 31]


def validate_uscc(code: str, *, field: str | None = "uscc") -> str:
    """Check a USCC and return it normalised (NFKC, surrounding spaces removed, upper case).

    Raises ValidationFailed ``enterprise.invalid_uscc`` naming the first problem found: length,
    illegal character, registration authority, category, division code, or check character
    (with the expected one). ``field`` is the dotted path put in the FieldError.
    """
    if not isinstance(code, str):
        raise _fail("应为字符串", field)
    value = _normalise(code)
    if len(value) != 18:
        raise _fail(f"应为 18 位，实际为 {len(value)} 位", field)
    for i, ch in enumerate(value, 1):
        if ch not in _VALUE:
            raise _fail(_bad_char_message(ch, i), field)
    if value[0] not in REGISTRATION_AUTHORITIES:
        raise _fail(f"第 1 位登记管理部门代码“{value[0]}”无效，应为 1–9、A、N 或 Y", field)
    # Categories differ per authority (9: 1 企业 / 2 个体工商户 / 3 农民专业合作社; 5: 1 社会团体 …);
    # every authority numbers them 1–9, so only that is checked, not the per-authority table.
    if value[1] not in "123456789":
        raise _fail(f"第 2 位机构类别代码“{value[1]}”无效，应为数字 1–9", field)
    if not value[2:8].isdigit():
        raise _fail(f"第 3–8 位登记管理机关行政区划码“{value[2:8]}”应为 6 位数字", field)
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        raise _fail(f"校验码错误：第 18 位应为“{expected}”，实际为“{value[17]}”", field)
    return value


def make_uscc(first17: str) -> str:
    """Append the check character to 17 characters, e.g. for demo data; the result is validated."""
    body = _normalise(first17) if isinstance(first17, str) else first17
    return validate_uscc(body + uscc_check_char(body), field=None)
