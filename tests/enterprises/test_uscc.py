"""统一社会信用代码 (GB 32100-2015) validation (enterprises.uscc)."""

import pytest

from core.errors import ValidationFailed
from enterprises.uscc import ALPHABET, WEIGHTS, make_uscc, uscc_check_char, validate_uscc

# Codes found in public material, re-checked by hand against the algorithm:
# 91350100M000100Y43 is the example every USCC validator quotes (Fuzhou, 350100);
# 91440300708461136T is 腾讯科技（深圳）有限公司's code.
PUBLISHED = ["91350100M000100Y43", "91440300708461136T"]


def _check_by_definition(first17: str) -> str:
    # Straight from the standard's wording, independent of the module's arithmetic.
    total = sum(ALPHABET.index(ch) * WEIGHTS[i] for i, ch in enumerate(first17))
    c18 = 31 - total % 31
    return ALPHABET[0 if c18 == 31 else c18]


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == tuple(pow(3, i, 31) for i in range(17))
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    "first17",
    [
        "91110108MA01ABCDE",  # 企业, Beijing Haidian, new-style MA… identifier
        "92500112MA5U00001",  # 个体工商户, Chongqing
        "93510100MA6C12345",  # 农民专业合作社, Chengdu
        "12100000400000001",  # 机构编制: 事业单位
        "51110000500000002",  # 民政: 社会团体
        "Y1500103MA0N00003",  # 其他
        "N2320102MA1B00004",  # 农业: 村级集体经济组织
        "A1110000MB1C00005",
    ],
)
def test_made_codes_validate(first17):
    code = make_uscc(first17)
    assert code[:17] == first17
    assert code[17] == _check_by_definition(first17)
    assert validate_uscc(code) == code


def test_check_char_covers_zero_case():
    # Σ mod 31 == 0 gives 31, which the standard maps to "0". Find such a body by varying pos 17.
    for ch in ALPHABET:
        body = "9150010000000000" + ch
        if _check_by_definition(body) == "0":
            assert uscc_check_char(body) == "0"
            assert validate_uscc(body + "0") == body + "0"
            break
    else:  # pragma: no cover - each position's weight is invertible mod 31, so some ch works
        pytest.fail("no body with remainder 0 found")


def test_lowercase_and_spaces_are_normalised():
    assert validate_uscc(" 91350100m000100y43\n") == "91350100M000100Y43"
    assert validate_uscc("91440300708461136t") == "91440300708461136T"
    assert make_uscc("91350100m000100y4") == "91350100M000100Y43"


def test_full_width_is_normalised():
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def _message(code):
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc(code)
    err = exc.value
    assert err.code == "enterprise.invalid_uscc"
    assert err.status == 422
    assert [(e.code, e.field) for e in err.errors] == [("enterprise.invalid_uscc", "uscc")]
    return err.errors[0].message


@pytest.mark.parametrize(("last", "expected"), [("4", "3"), ("0", "3"), ("Y", "3")])
def test_wrong_check_char_names_the_expected_one(last, expected):
    message = _message("91350100M000100Y4" + last)
    assert "校验码" in message and f"应为“{expected}”" in message


def test_every_single_character_change_is_caught():
    good = "91440300708461136T"
    for pos in range(18):
        for ch in ALPHABET:
            if ch != good[pos]:
                with pytest.raises(ValidationFailed):
                    validate_uscc(good[:pos] + ch + good[pos + 1 :])


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "9135"])
def test_wrong_length(code):
    message = _message(code)
    assert "18 位" in message and f"{len(code)} 位" in message


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters(letter):
    message = _message("91350100M000100" + letter + "43")
    assert "第 16 位" in message and letter in message and "I、O、Z、S、V" in message


@pytest.mark.parametrize("code", ["91350100M000100-43", "91350100M000100Y4*", "91350100M00010 Y43"])
def test_illegal_characters(code):
    assert "非法字符" in _message(code)


def test_registration_authority():
    # B is in the alphabet but not a registration authority.
    assert "登记管理部门" in _message("B" + "1350100M000100Y4" + "3")


def test_category_must_be_1_to_9():
    body = "90350100M000100Y4"
    assert "机构类别" in _message(body + uscc_check_char(body))


def test_division_code_must_be_digits():
    body = "9135A100M000100Y4"
    assert "行政区划码" in _message(body + uscc_check_char(body))


def test_not_a_string():
    assert _message(913501004)
    with pytest.raises(ValidationFailed):
        validate_uscc(None)


def test_field_path_is_configurable():
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc("123", field="data.uscc")
    assert exc.value.errors[0].field == "data.uscc"


def test_check_char_input_errors():
    with pytest.raises(ValidationFailed):
        uscc_check_char("91350100M000100Y")  # 16 characters
    with pytest.raises(ValidationFailed):
        uscc_check_char("91350100M000100O4")  # forbidden letter
    with pytest.raises(ValidationFailed):
        make_uscc("B1350100M000100Y4")  # check char fine, structure not
