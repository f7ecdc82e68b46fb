"""评分: turn the answers of one inspection into outcomes, failed items and hazards to raise.

A pure function of (template version, answers): no database, no clock. Bad answers are refused as
a whole with one :class:`~core.errors.FieldError` per problem (``answers.<i>.<field>``); nothing
is dropped silently. Rules (see ``docs/checklists.md``):

- an answer names an item of this template version, at most once;
- ``na`` (不适用) only where the item allows it (``Item.na_allowed``);
- ``pass_fail`` answers carry no value; ``number`` answers carry a number (required to pass);
  ``choice`` answers carry one of the options; ``text`` answers an optional string;
- a number outside the item's limits, or a choice marked ``fails``, is a failure whatever
  ``result`` says; an inspector's ``fail`` always stands;
- a failed item that requires photo evidence must name at least one photo (SHA-256).
"""

from __future__ import annotations

import re

import math
from dataclasses import dataclass
from typing import Any, Sequence

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from core.errors import FieldError, ValidationFailed

from .definition import Item, Template, format_number

RESULTS = ("pass", "fail", "na")


class AnswerIn(Schema):
    """One answer as phones and the REST API send it (shared so both doors check the same)."""

    class Meta:
        unknown = RAISE

    item = fields.String(
        required=True,
        validate=validate.Length(min=1, error="不能为空"),
        error_messages={"required": "缺少条目代码", "invalid": "应为字符串"},
    )
    result = fields.String(
        required=True,
        validate=validate.OneOf(RESULTS, error="应为 pass | fail | na 之一"),
        error_messages={"required": "缺少检查结论", "invalid": "应为字符串"},
    )
    value = fields.Raw(load_default=None, allow_none=True)
    note = fields.String(load_default="", allow_none=True, error_messages={"invalid": "应为字符串"})
    photos = fields.List(
        fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="照片应以 64 位小写十六进制 SHA-256 标识")),
        load_default=list,
        error_messages={"invalid": "应为照片标识列表"},
    )


_SHA = re.compile(r"^[0-9a-f]{64}$")  # the pattern AnswerIn.photos checks, matched the same way
_ANSWER_KEYS = frozenset(("item", "result", "value", "note", "photos"))


def _plainly_valid(raw) -> dict | None:
    """``AnswerIn().load(raw)`` for an answer every field of which is plainly valid, built without
    marshmallow; None whenever anything might be refused, so that AnswerIn itself says why."""
    if type(raw) is not dict or not _ANSWER_KEYS.issuperset(raw):
        return None
    item, result, note = raw.get("item"), raw.get("result"), raw.get("note", "")
    if type(item) is not str or not item or type(result) is not str or result not in RESULTS:
        return None
    if note is not None and type(note) is not str:
        return None
    photos = raw.get("photos", [])
    if type(photos) is not list or not all(type(p) is str and _SHA.match(p) for p in photos):
        return None
    return {"item": item, "result": result, "value": raw.get("value"), "note": note, "photos": list(photos)}


# Built once: a schema instance deep-copies its fields (≈ 0.1 ms), and score runs for every inspection
# of a push. Loading keeps no state on it (marshmallow 4).
_ANSWER_SCHEMA = AnswerIn()


class AnswerList(fields.List):
    """``List(Nested(AnswerIn))`` — so documented — that loads a list of plainly valid answers in plain
    Python (30–60 answers an inspection made nested loading most of a push's validation time) and
    hands any other list to marshmallow, which then gives exactly its errors."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(AnswerIn), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list:
            answers = [_plainly_valid(raw) for raw in value]
            if all(a is not None for a in answers):
                return answers
        return super()._deserialize(value, attr, data, **kwargs)


@dataclass(frozen=True)
class ItemOutcome:
    item: str
    outcome: str  # pass | fail | na
    reason: str | None = None  # why it failed: answered_fail | out_of_limits | failing_option

    def as_dict(self) -> dict:
        return {"item": self.item, "outcome": self.outcome, "reason": self.reason}


@dataclass(frozen=True)
class HazardDraft:
    """A hazard (隐患) the inspection must raise for a failed item."""

    item: str
    level: str  # general | major
    major: bool  # 重大事故隐患 under the official determination standard
    description: str
    photos: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "item": self.item,
            "level": self.level,
            "major": self.major,
            "description": self.description,
            "photos": list(self.photos),
        }


@dataclass(frozen=True)
class Summary:
    total: int  # items in the template
    applicable: int  # items that apply to the enterprise's sub-type (all when it is not given)
    answered: int
    passed: int
    failed: int
    na: int
    unanswered: int  # applicable items without an answer
    major_failed: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ScoreResult:
    template: str
    version: int
    outcomes: tuple[ItemOutcome, ...]  # in template order
    failed: tuple[str, ...]  # failed item codes, template order
    major_failed: int
    hazards: tuple[HazardDraft, ...]
    summary: Summary

    def as_dict(self) -> dict:
        return {
            "template": self.template,
            "version": self.version,
            "outcomes": [o.as_dict() for o in self.outcomes],
            "failed": list(self.failed),
            "major_failed": self.major_failed,
            "hazards": [h.as_dict() for h in self.hazards],
            "summary": self.summary.as_dict(),
        }


_MESSAGES = {
    "Invalid input type.": "应为对象（item、result、value、note、photos）",
    "Unknown field.": "未知字段（不允许）",
    "Not a valid string.": "应为字符串",
    "Missing data for required field.": "缺少必填字段",
    "Field may not be null.": "不能为空（null）",
}


def _flatten(messages: dict, prefix: str) -> list[FieldError]:
    """Marshmallow's nested messages as one FieldError per message, dotted field paths."""
    out = []
    for key, sub in sorted(messages.items(), key=lambda kv: (isinstance(kv[0], str), str(kv[0]).zfill(9))):
        path = prefix if key == "_schema" else f"{prefix}.{key}"
        if isinstance(sub, dict):
            out.extend(_flatten(sub, path))
        else:
            out.extend(FieldError("checklist.answer_invalid", path, _MESSAGES.get(m, m)) for m in sub)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_value(item: Item, answer: dict, where: str) -> tuple[list[FieldError], str | None]:
    """Type-check the value; return problems and, when the value itself fails, the reason."""
    spec, result, value = item.answer, answer["result"], answer["value"]
    field = f"{where}.value"

    def bad(message: str) -> tuple[list[FieldError], None]:
        return [FieldError("checklist.bad_value", field, f"条目 {item.code}：{message}")], None

    if result == "na":
        return bad("结论为不适用（na）时不应填写数值") if value is not None else ([], None)
    if spec.type == "pass_fail":
        return bad("该条目只需填写合格/不合格，不接受 value") if value is not None else ([], None)
    if spec.type == "text":
        return bad("应为文字") if value is not None and not isinstance(value, str) else ([], None)
    if spec.type == "number":
        if value is None:
            # A pass must be backed by the measurement; a fail may be judged without one.
            return bad(f"判为合格时须填写实测数值（单位：{spec.unit}）") if result == "pass" else ([], None)
        if not _is_number(value):
            return bad(f"应为数值（单位：{spec.unit}），收到 {value!r}")
        return [], "out_of_limits" if spec.out_of_limits(value) else None
    # choice
    if value is None:
        return bad("应选择一个选项：" + "、".join(o.value for o in spec.options))
    option = spec.option(value) if isinstance(value, str) else None
    if option is None:
        return bad(f"选项 {value!r} 不存在，可选：" + "、".join(o.value for o in spec.options))
    return [], "failing_option" if option.fails else None


def _describe(item: Item, answer: dict) -> str:
    parts = [item.text.rstrip("。；; ")]
    spec, value = item.answer, answer["value"]
    if spec.type == "number" and value is not None:
        parts.append(
            f"实测 {format_number(value)}{spec.unit}"
            + (f"（要求 {spec.limits_text()}）" if spec.out_of_limits(value) else "")
        )
    elif spec.type == "choice" and value is not None:
        parts.append(f"现场情况：{spec.option(value).label}")
    elif spec.type == "text" and value:
        parts.append(f"记录：{value}")
    note = (answer.get("note") or "").strip()
    if note:
        parts.append(f"检查说明：{note}")
    return "；".join(parts) + "。"


def score(
    template: Template, answers: Sequence[dict], *, subtype: str | None = None, loaded: bool = False
) -> ScoreResult:
    """Score the answers of one inspection against one template version.

    ``subtype``, when given, limits the ``applicable``/``unanswered`` counts to the items that
    apply to that enterprise sub-type; answers to other items are still accepted. ``loaded``: the
    answers are ``AnswerIn``'s output already (an inspection body's ``answers`` are), so they are not
    loaded a second time — loading is idempotent on its own output, and was a quarter of a push's CPU.
    """
    if isinstance(answers, (str, bytes, dict)) or not isinstance(answers, Sequence):
        raise ValidationFailed(
            "检查结果应为列表", errors=[FieldError("checklist.answer_invalid", "answers", "检查结果应为列表")]
        )
    if subtype is not None and subtype not in template.subtypes:
        raise ValidationFailed(
            f"模板 {template.code} 不适用于子类 {subtype}",
            errors=[
                FieldError("checklist.unknown_subtype", "subtype", f"模板 {template.code} 不适用于子类 “{subtype}”")
            ],
        )

    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    evaluated: dict[str, tuple[dict, str, str | None]] = {}  # item -> (answer, outcome, reason)
    for index, raw in enumerate(answers):
        where = f"answers.{index}"
        try:
            answer = raw if loaded else _ANSWER_SCHEMA.load(raw)
        except ValidationError as exc:
            errors.extend(_flatten(exc.messages, where))
            continue
        code = answer["item"]
        item = template.item(code)
        if item is None:
            errors.append(
                FieldError(
                    "checklist.unknown_item",
                    f"{where}.item",
                    f"条目 {code} 不属于模板 {template.code} 第 {template.version} 版",
                )
            )
            continue
        if code in seen:
            errors.append(
                FieldError(
                    "checklist.duplicate_answer",
                    f"{where}.item",
                    f"条目 {code} 重复作答（已见于 answers.{seen[code]}）",
                )
            )
            continue
        seen[code] = index
        if answer["result"] == "na" and not item.na_allowed:
            errors.append(
                FieldError("checklist.na_not_allowed", f"{where}.result", f"条目 {code} 不允许判为不适用（na）")
            )
            continue
        value_errors, reason = _check_value(item, answer, where)
        if value_errors:
            errors.extend(value_errors)
            continue
        if answer["result"] == "fail":
            reason = "answered_fail"
        outcome = "na" if answer["result"] == "na" else ("fail" if reason else "pass")
        if outcome == "fail" and item.evidence.photo_required_when_failed and not answer["photos"]:
            why = "（数值或选项判定为不合格）" if answer["result"] == "pass" else ""
            errors.append(
                FieldError("checklist.photo_required", f"{where}.photos", f"条目 {code} 不合格{why}，须附现场照片")
            )
            continue
        evaluated[code] = (answer, outcome, reason)

    if errors:
        raise ValidationFailed(f"检查结果校验未通过（{len(errors)} 处问题）", errors=errors)

    outcomes, failed, hazards = [], [], []
    counts = {"pass": 0, "fail": 0, "na": 0}
    major_failed = 0
    applicable = unanswered = 0
    for item in template.items:
        if item.applies_to(subtype):
            applicable += 1
            if item.code not in evaluated:
                unanswered += 1
        if item.code not in evaluated:
            continue
        answer, outcome, reason = evaluated[item.code]
        counts[outcome] += 1
        outcomes.append(ItemOutcome(item.code, outcome, reason))
        if outcome == "fail":
            failed.append(item.code)
            major_failed += item.major
            hazards.append(
                HazardDraft(
                    item.code, item.hazard_level_if_failed, item.major, _describe(item, answer), tuple(answer["photos"])
                )
            )
    summary = Summary(
        total=len(template.items),
        applicable=applicable,
        answered=len(evaluated),
        passed=counts["pass"],
        failed=counts["fail"],
        na=counts["na"],
        unanswered=unanswered,
        major_failed=major_failed,
    )
    return ScoreResult(
        template.code, template.version, tuple(outcomes), tuple(failed), major_failed, tuple(hazards), summary
    )
