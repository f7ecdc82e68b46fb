"""score(): outcomes, hazards, summary, and every way answers are refused. Pure, no database."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from checklists import (
    AnswerSpec,
    Basis,
    Evidence,
    Item,
    Option,
    Section,
    Source,
    Template,
    find_template,
    load_all,
    score,
)
from core.errors import ValidationFailed

PHOTO = "0123456789abcdef" * 4
PHOTO2 = "f" * 64


@pytest.fixture(scope="module")
def shipped():
    return load_all()


@pytest.fixture(scope="module")
def retail(shipped):
    return find_template(shipped, "fireworks.retail")


def _item(code, answer=None, *, major=False, photo=False, na_allowed=False, subtypes=()):
    return Item(
        code=code,
        section="main",
        text=f"{code} 的问题。",
        check_method="查看。",
        basis=Basis("doc", "第一条", "《测试文件》"),
        major=major,
        hazard_level_if_failed="major" if major else "general",
        answer=answer or AnswerSpec("pass_fail"),
        evidence=Evidence(photo or major),
        na_allowed=na_allowed,
        subtypes=subtypes,
    )


@pytest.fixture(scope="module")
def small():
    """A template with one item of each answer type, built directly."""
    items = (
        _item("T-001", major=True),
        _item("T-002"),
        _item("T-003", AnswerSpec("number", unit="米", min=0.5, max=2)),
        _item("T-004", AnswerSpec("text")),
        _item(
            "T-005",
            AnswerSpec("choice", options=(Option("ok", "正常", False), Option("broken", "损坏", True))),
            photo=True,
        ),
        _item("T-006", na_allowed=True, subtypes=("catering",)),
    )
    return Template(
        code="gas.user",
        version=3,
        title="测试",
        industry="gas",
        subtypes=("catering", "other_user"),
        status="published",
        sources=(Source("doc", "《测试文件》"),),
        sections=(Section("main", "主要"),),
        items=items,
    )


def _refusal(template, answers, **kw):
    with pytest.raises(ValidationFailed) as caught:
        score(template, answers, **kw)
    return [(e.code, e.field) for e in caught.value.errors], caught.value


# --------------------------------------------------------------------------- outcomes


def test_all_pass(small):
    result = score(
        small,
        [
            {"item": "T-001", "result": "pass"},
            {"item": "T-003", "result": "pass", "value": 1.2},
            {"item": "T-005", "result": "pass", "value": "ok"},
        ],
    )
    assert result.failed == () and result.hazards == () and result.major_failed == 0
    s = result.summary
    assert (s.total, s.applicable, s.answered, s.passed, s.failed, s.na, s.unanswered) == (6, 6, 3, 3, 0, 0, 3)
    assert [o.item for o in result.outcomes] == ["T-001", "T-003", "T-005"]


def test_general_failure_raises_a_general_hazard(small):
    result = score(small, [{"item": "T-002", "result": "fail", "note": "  通道堆放杂物  "}])
    assert result.failed == ("T-002",) and result.major_failed == 0
    (hazard,) = result.hazards
    assert (hazard.item, hazard.level, hazard.major) == ("T-002", "general", False)
    assert hazard.description == "T-002 的问题；检查说明：通道堆放杂物。"
    assert hazard.photos == ()  # no photo rule on this item


def test_major_failure(retail):
    answers = [
        {"item": "FW-R-010", "result": "fail", "photos": [PHOTO, PHOTO2], "note": "二楼住人"},
        {"item": "FW-R-030", "result": "pass"},
        {"item": "FW-R-002", "result": "pass"},
    ]
    result = score(retail, answers)
    assert result.failed == ("FW-R-010",) and result.major_failed == 1
    (hazard,) = result.hazards
    assert hazard.level == "major" and hazard.major
    assert hazard.description.startswith("零售点与居民居住场所设置在同一建筑物内")
    assert hazard.description.endswith("检查说明：二楼住人。")
    assert hazard.photos == (PHOTO, PHOTO2)
    assert result.summary.major_failed == 1 and result.summary.passed == 2


def test_major_failure_without_photo_is_refused(retail):
    errors, err = _refusal(retail, [{"item": "FW-R-010", "result": "fail"}])
    assert errors == [("checklist.photo_required", "answers.0.photos")]
    assert err.status == 422 and "FW-R-010" in err.errors[0].message


def test_item_of_another_template_is_refused(retail):
    errors, err = _refusal(
        retail, [{"item": "FW-R-030", "result": "pass"}, {"item": "FW-PW-031", "result": "fail", "photos": [PHOTO]}]
    )
    assert errors == [("checklist.unknown_item", "answers.1.item")]
    assert f"fireworks.retail 第 {retail.version} 版" in err.errors[0].message


def test_duplicate_answer_is_refused(retail):
    errors, _ = _refusal(
        retail,
        [
            {"item": "FW-R-030", "result": "pass"},
            {"item": "FW-R-002", "result": "pass"},
            {"item": "FW-R-030", "result": "fail", "photos": [PHOTO]},
        ],
    )
    assert errors == [("checklist.duplicate_answer", "answers.2.item")]


def test_every_problem_is_reported_once(retail):
    errors, err = _refusal(
        retail,
        [
            {"item": "FW-R-010", "result": "fail"},
            {"item": "NOPE-001", "result": "pass"},
            {"item": "FW-R-002", "result": "na"},
            {"item": "FW-R-011", "result": "pass", "value": "12"},
            "FW-R-012 pass",
            {"item": "FW-R-013", "result": "ok", "extra": 1, "photos": ["not-a-hash"]},
        ],
    )
    assert errors == [
        ("checklist.photo_required", "answers.0.photos"),
        ("checklist.unknown_item", "answers.1.item"),
        ("checklist.na_not_allowed", "answers.2.result"),
        ("checklist.bad_value", "answers.3.value"),
        ("checklist.answer_invalid", "answers.4"),
        ("checklist.answer_invalid", "answers.5.extra"),
        ("checklist.answer_invalid", "answers.5.photos.0"),
        ("checklist.answer_invalid", "answers.5.result"),
    ]
    assert err.detail == "检查结果校验未通过（8 处问题）"


def test_answers_must_be_a_list(small):
    for bad in ({"item": "T-001", "result": "pass"}, "T-001", None):
        errors, _ = _refusal(small, bad)
        assert errors == [("checklist.answer_invalid", "answers")]


def test_missing_fields(small):
    errors, err = _refusal(small, [{"value": 1}])
    assert errors == [("checklist.answer_invalid", "answers.0.item"), ("checklist.answer_invalid", "answers.0.result")]
    assert err.errors[0].message == "缺少条目代码"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "value,outcome", [(0.5, "pass"), (2, "pass"), (1, "pass"), (0.49, "fail"), (2.01, "fail"), (-3, "fail")]
)
def test_number_limits_are_inclusive_and_outside_fails(small, value, outcome):
    result = score(small, [{"item": "T-003", "result": "pass", "value": value}])
    assert result.outcomes[0].outcome == outcome
    if outcome == "fail":
        assert result.outcomes[0].reason == "out_of_limits"
        assert "要求 ≥ 0.5米，≤ 2米" in result.hazards[0].description


def test_number_out_of_limits_on_shipped_item(retail):
    result = score(retail, [{"item": "FW-R-011", "result": "pass", "value": 8}])
    assert result.failed == ("FW-R-011",)
    assert result.hazards[0].description == "零售场所面积小于10平方米；实测 8平方米（要求 ≥ 10平方米）。"
    assert score(retail, [{"item": "FW-R-011", "result": "pass", "value": 10}]).failed == ()


@pytest.mark.parametrize("value", ["1.2", True, [1], {"v": 1}, float("nan"), float("inf")])
def test_number_of_wrong_type_is_refused(small, value):
    errors, _ = _refusal(small, [{"item": "T-003", "result": "fail", "value": value}])
    assert errors == [("checklist.bad_value", "answers.0.value")]


def test_number_pass_needs_the_measurement_but_fail_may_go_without(small):
    errors, _ = _refusal(small, [{"item": "T-003", "result": "pass"}])
    assert errors == [("checklist.bad_value", "answers.0.value")]
    result = score(small, [{"item": "T-003", "result": "fail"}])
    assert result.failed == ("T-003",) and result.outcomes[0].reason == "answered_fail"


def test_inspector_fail_stands_even_within_limits(small):
    result = score(small, [{"item": "T-003", "result": "fail", "value": 1}])
    assert result.failed == ("T-003",)
    assert result.hazards[0].description == "T-003 的问题；实测 1米。"


def test_out_of_limits_needs_photo_when_item_requires_it(small):
    strict = dataclasses.replace(small, items=(_item("T-003", AnswerSpec("number", unit="米", max=2), photo=True),))
    errors, err = _refusal(strict, [{"item": "T-003", "result": "pass", "value": 3}])
    assert errors == [("checklist.photo_required", "answers.0.photos")]
    assert "数值或选项判定为不合格" in err.errors[0].message


# --------------------------------------------------------------------------- choice, text, pass_fail values


def test_choice(small):
    result = score(small, [{"item": "T-005", "result": "pass", "value": "broken", "photos": [PHOTO]}])
    assert result.failed == ("T-005",) and result.outcomes[0].reason == "failing_option"
    assert result.hazards[0].description == "T-005 的问题；现场情况：损坏。"
    errors, _ = _refusal(small, [{"item": "T-005", "result": "pass", "value": "broken"}])
    assert errors == [("checklist.photo_required", "answers.0.photos")]
    for bad in ("gone", None, 1):
        errors, _ = _refusal(small, [{"item": "T-005", "result": "pass", "value": bad}])
        assert errors == [("checklist.bad_value", "answers.0.value")]


def test_shipped_choice_item(shipped):
    gas = find_template(shipped, "gas.user")
    result = score(gas, [{"item": "GS-U-001", "result": "fail", "value": "not_installed", "photos": [PHOTO]}])
    assert result.hazards[0].description.endswith("现场情况：未安装。")


def test_text(small):
    result = score(small, [{"item": "T-004", "result": "fail", "value": "二层西侧"}])
    assert result.hazards[0].description == "T-004 的问题；记录：二层西侧。"
    errors, _ = _refusal(small, [{"item": "T-004", "result": "pass", "value": 3}])
    assert errors == [("checklist.bad_value", "answers.0.value")]


def test_pass_fail_takes_no_value(small):
    errors, _ = _refusal(small, [{"item": "T-002", "result": "pass", "value": 1}])
    assert errors == [("checklist.bad_value", "answers.0.value")]


# --------------------------------------------------------------------------- 不适用 (na)


def test_na_refused_unless_allowed(small, retail):
    errors, _ = _refusal(small, [{"item": "T-001", "result": "na"}])
    assert errors == [("checklist.na_not_allowed", "answers.0.result")]
    result = score(small, [{"item": "T-006", "result": "na"}])
    assert result.summary.na == 1 and result.failed == ()
    errors, _ = _refusal(retail, [{"item": "FW-R-030", "result": "na"}])
    assert errors == [("checklist.na_not_allowed", "answers.0.result")]


def test_na_takes_no_value(small):
    errors, _ = _refusal(small, [{"item": "T-006", "result": "na", "value": 0}])
    assert errors == [("checklist.bad_value", "answers.0.value")]


@pytest.mark.parametrize(
    "template,item",
    [
        ("fireworks.production_wholesale", "FW-PW-012"),  # sub-type item: na by default
        ("construction.housing_municipal", "CN-HM-020"),  # section 基坑工程 allows na
        ("hazardous_chemicals.filling_station", "HC-FS-022"),  # item says na_allowed
        ("special_equipment.user_unit", "SE-BL-001"),  # no boiler at this unit
    ],
)
def test_na_where_shipped_templates_allow_it(shipped, template, item):
    assert score(find_template(shipped, template), [{"item": item, "result": "na"}]).summary.na == 1


@pytest.mark.parametrize(
    "template,item",
    [
        ("construction.housing_municipal", "CN-HM-001"),
        ("special_equipment.user_unit", "SE-GEN-002"),
        ("hazardous_chemicals.filling_station", "HC-FS-033"),
    ],
)
def test_na_refused_on_items_that_always_apply(shipped, template, item):
    errors, _ = _refusal(find_template(shipped, template), [{"item": item, "result": "na"}])
    assert errors == [("checklist.na_not_allowed", "answers.0.result")]


# --------------------------------------------------------------------------- sub-type, purity, output


def test_subtype_limits_applicable_and_unanswered(small):
    result = score(small, [{"item": "T-001", "result": "pass"}], subtype="other_user")
    assert (result.summary.applicable, result.summary.unanswered) == (5, 4)
    result = score(small, [{"item": "T-001", "result": "pass"}], subtype="catering")
    assert (result.summary.applicable, result.summary.unanswered) == (6, 5)
    errors, _ = _refusal(small, [], subtype="retail")
    assert errors == [("checklist.unknown_subtype", "subtype")]


def test_empty_answers(small):
    result = score(small, [])
    assert result.summary.answered == 0 and result.summary.unanswered == 6


def test_pure_and_serialisable(small):
    answers = [
        {"item": "T-001", "result": "fail", "photos": [PHOTO], "note": "说明"},
        {"item": "T-003", "result": "pass", "value": 3},
    ]
    before = copy.deepcopy(answers)
    first, second = score(small, answers), score(small, answers)
    assert first == second and answers == before
    data = json.loads(json.dumps(first.as_dict(), ensure_ascii=False))
    assert data["template"] == "gas.user" and data["version"] == 3
    assert data["failed"] == ["T-001", "T-003"] and data["major_failed"] == 1
    assert data["summary"]["failed"] == 2
    assert [h["level"] for h in data["hazards"]] == ["major", "general"]
