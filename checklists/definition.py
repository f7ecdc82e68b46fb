"""检查表模板（checklist templates）: load a YAML template, validate it, expose it as frozen data.

One file per template version, ``templates/<code>.v<version>.yaml``; the format is described in
``docs/checklists.md``. A file that breaks a rule raises :class:`TemplateInvalid` naming the file,
the item code and the problem. Nothing here touches a database or Flask.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from core.errors import FieldError, NotFound, ValidationFailed

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "templates"

ANSWER_TYPES = ("pass_fail", "number", "text", "choice")
HAZARD_LEVELS = ("general", "major")
STATUSES = ("published", "withdrawn")
# A source without a kind is an official document: a law, regulation, rule, national or industry
# standard, or a determination standard. ``local_practice`` marks a local work plan or a local
# authority's inspection practice: what an item citing it asks is not a clause of national law.
SOURCE_KINDS = ("local_practice",)
# A citation still carrying one of these is a promise of a clause, not a clause.
UNFINISHED = re.compile(r"待核|待定|待查|待补|待确认|TODO|TBD|FIXME|XXX|[?？]", re.IGNORECASE)


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Industry:
    code: str
    title: str
    subtypes: Mapping[str, str]  # sub-type code -> 中文名


def _industry(code: str, title: str, subtypes: dict[str, str]) -> Industry:
    return Industry(code, title, MappingProxyType(subtypes))


# The fixed vocabulary of industries and enterprise sub-types. Enterprises carry one pair of
# these codes; templates declare which sub-types they serve. Adding a code is a code change
# (and a migration of enterprise data), never something a template file can do on its own.
INDUSTRIES: Mapping[str, Industry] = MappingProxyType(
    {
        "fireworks": _industry(
            "fireworks",
            "烟花爆竹",
            {
                "production": "生产企业",
                "wholesale": "批发企业",
                "retail": "零售经营者（零售店、点）",
            },
        ),
        "hazardous_chemicals": _industry(
            "hazardous_chemicals",
            "危险化学品",
            {
                "production": "生产企业",
                "trading": "经营企业（不带储存）",
                "storage": "经营（带储存）及储存企业",
                "filling_station": "加油加气站",
            },
        ),
        "construction": _industry(
            "construction",
            "建筑施工",
            {
                "housing_municipal": "房屋市政工程施工现场",
            },
        ),
        "special_equipment": _industry(
            "special_equipment",
            "特种设备",
            {
                "user_unit": "特种设备使用单位",
            },
        ),
        "gas": _industry(
            "gas",
            "燃气",
            {
                "operator": "燃气经营企业（管道燃气）",
                "station": "燃气厂站及瓶装燃气供应站",
                "catering": "餐饮场所燃气用户",
                "other_user": "其他非居民燃气用户",
            },
        ),
    }
)


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Source:
    """A document the template cites (官方文件)."""

    id: str
    title: str
    number: str | None = None  # 文号或标准号
    issuer: str | None = None
    date: str | None = None
    note: str | None = None
    kind: str | None = None  # None: an official document; "local_practice": see SOURCE_KINDS

    def as_dict(self) -> dict:
        out = {
            "id": self.id,
            "title": self.title,
            "number": self.number,
            "issuer": self.issuer,
            "date": self.date,
            "note": self.note,
        }
        # Only a local-practice source carries the key: the versions published before kinds existed
        # keep their content hash.
        if self.kind is not None:
            out["kind"] = self.kind
        return out


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    na_allowed: bool = False  # default for its items: may the whole section be 不适用
    note: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "na_allowed": self.na_allowed, "note": self.note}


@dataclass(frozen=True)
class Basis:
    """依据: ``document`` is the id of one of the template's sources; ``title`` its official name."""

    document: str
    clause: str
    title: str

    def as_dict(self) -> dict:
        return {"document": self.document, "title": self.title, "clause": self.clause}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    fails: bool

    def as_dict(self) -> dict:
        return {"value": self.value, "label": self.label, "fails": self.fails}


@dataclass(frozen=True)
class AnswerSpec:
    type: str
    unit: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    options: tuple[Option, ...] = ()

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def out_of_limits(self, value: int | float) -> bool:
        """Whether a measured number breaks the limits (limits are inclusive)."""
        return (self.min is not None and value < self.min) or (self.max is not None and value > self.max)

    def limits_text(self) -> str:
        unit = self.unit or ""
        parts = []
        if self.min is not None:
            parts.append(f"≥ {format_number(self.min)}{unit}")
        if self.max is not None:
            parts.append(f"≤ {format_number(self.max)}{unit}")
        return "，".join(parts)

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "number":
            out.update(unit=self.unit, min=self.min, max=self.max)
        if self.type == "choice":
            out["options"] = [o.as_dict() for o in self.options]
        return out


@dataclass(frozen=True)
class Evidence:
    photo_required_when_failed: bool = False

    def as_dict(self) -> dict:
        return {"photo_required_when_failed": self.photo_required_when_failed}


@dataclass(frozen=True)
class Item:
    code: str
    section: str
    text: str
    check_method: str
    basis: Basis
    major: bool
    hazard_level_if_failed: str
    answer: AnswerSpec
    evidence: Evidence
    na_allowed: bool  # resolved: explicit value, else True for sub-type items, else the section's
    subtypes: tuple[str, ...] = ()  # empty: every sub-type of the template
    note: str | None = None

    def applies_to(self, subtype: str | None) -> bool:
        return subtype is None or not self.subtypes or subtype in self.subtypes

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "section": self.section,
            "text": self.text,
            "check_method": self.check_method,
            "basis": self.basis.as_dict(),
            "major": self.major,
            "hazard_level_if_failed": self.hazard_level_if_failed,
            "answer": self.answer.as_dict(),
            "evidence": self.evidence.as_dict(),
            "na_allowed": self.na_allowed,
            "subtypes": list(self.subtypes),
            "note": self.note,
        }


@dataclass(frozen=True)
class Template:
    code: str
    version: int
    title: str
    industry: str
    subtypes: tuple[str, ...]
    status: str
    sources: tuple[Source, ...]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    note: str | None = None
    path: Path | None = field(default=None, compare=False, repr=False)
    _by_code: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", MappingProxyType({i.code: i for i in self.items}))

    @property
    def published(self) -> bool:
        return self.status == "published"

    def item(self, code: str) -> Item | None:
        return self._by_code.get(code)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    @property
    def major_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.major)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Template":
        """Rebuild a template from its :meth:`as_dict` form (e.g. the content a server stored).

        No validation: the content was validated when its file was loaded; its hash says so."""

        def answer(a: Mapping[str, Any]) -> AnswerSpec:
            return AnswerSpec(
                type=a["type"],
                unit=a.get("unit"),
                min=a.get("min"),
                max=a.get("max"),
                options=tuple(Option(**o) for o in a.get("options") or ()),
            )

        return cls(
            code=data["code"],
            version=data["version"],
            title=data["title"],
            industry=data["industry"],
            subtypes=tuple(data["subtypes"]),
            status=data["status"],
            note=data.get("note"),
            sources=tuple(Source(**s) for s in data["sources"]),
            sections=tuple(Section(**s) for s in data["sections"]),
            items=tuple(
                Item(
                    code=i["code"],
                    section=i["section"],
                    text=i["text"],
                    check_method=i["check_method"],
                    basis=Basis(**i["basis"]),
                    major=i["major"],
                    hazard_level_if_failed=i["hazard_level_if_failed"],
                    answer=answer(i["answer"]),
                    evidence=Evidence(**i["evidence"]),
                    na_allowed=i["na_allowed"],
                    subtypes=tuple(i["subtypes"]),
                    note=i.get("note"),
                )
                for i in data["items"]
            ),
        )

    def as_dict(self) -> dict:
        """The whole template for API output. ``status`` is the only lifecycle field in it."""
        return {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "industry": self.industry,
            "subtypes": list(self.subtypes),
            "status": self.status,
            "note": self.note,
            "sources": [s.as_dict() for s in self.sources],
            "sections": [s.as_dict() for s in self.sections],
            "items": [i.as_dict() for i in self.items],
        }


def content_hash(template: Template) -> str:
    """SHA-256 (hex) of the template's content as canonical JSON.

    Independent of YAML layout and key order (the hash is taken over the normalised data, keys
    sorted). ``status`` is left out on purpose: withdrawing a published version is allowed and
    must not look like an edit of its content.
    """
    content = template.as_dict()
    del content["status"]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template file."""

    file: str
    message: str
    item: str | None = None
    location: str | None = None  # dotted path inside the file, e.g. items.3.basis

    def __str__(self) -> str:
        parts = [self.file]
        if self.item:
            parts.append(f"条目 {self.item}")
        if self.location:
            parts.append(self.location)
        parts.append(self.message)
        return "：".join(parts)


class TemplateInvalid(ValidationFailed):
    code = "checklist.invalid"
    title = "检查表模板无效"

    def __init__(self, problems: Sequence[Problem]):
        self.problems = [str(p) for p in problems]
        detail = self.problems[0] if self.problems else self.title
        if len(self.problems) > 1:
            detail += f"（另有 {len(self.problems) - 1} 处问题）"
        super().__init__(
            detail, errors=[FieldError(code=self.code, field=p.location, message=str(p)) for p in problems]
        )


# --------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that refuses duplicate keys, keeps dates as strings, and reads only
    ``true``/``false`` as booleans (YAML 1.1 would turn ``no``, ``on``, ``off`` into booleans)."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: let the base constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError("映射中", node.start_mark, f"键 {key!r} 重复", key_node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --------------------------------------------------------------------------- schemas

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SECTION_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-[0-9]{3}$")
_TEMPLATE_CODE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_OPTION = re.compile(r"^[a-z][a-z0-9_]*$")

_MESSAGES = {
    "Missing data for required field.": "缺少必填字段",
    "Unknown field.": "未知字段（不允许）",
    "Not a valid string.": "应为字符串",
    "Field may not be null.": "不能为空（null）",
    "Not a valid list.": "应为列表",
    "Invalid input type.": "类型不正确，应为映射（键: 值）",
    "Invalid value.": "取值无效",
}


class _StrictBool(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("应为布尔值 true 或 false")
        return value


class _StrictInt(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("应为整数")
        return value


class _StrictNumber(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("应为数值")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("应为有限数值")
        # 10 and 10.0 mean the same limit: one canonical form keeps the content hash stable.
        return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(**kw):
    return fields.String(validate=validate.Regexp(r"\S", error="不能为空"), **kw)


def _pattern(rx: re.Pattern, what: str, **kw):
    return fields.String(validate=validate.Regexp(rx, error=f"{what}格式不正确（应匹配 {{regex}}）"), **kw)


def _one_of(choices: Iterable[str], **kw):
    choices = tuple(choices)
    return fields.String(validate=validate.OneOf(choices, error=f"应为 {' | '.join(choices)} 之一"), **kw)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SourceSchema(_Strict):
    id = _pattern(_ID, "文件代号", required=True)
    title = _text(required=True)
    number = _text()
    issuer = _text()
    date = _pattern(_DATE, "日期")
    note = _text()
    kind = _one_of(SOURCE_KINDS)


class SectionSchema(_Strict):
    code = _pattern(_SECTION_CODE, "分部代码", required=True)
    title = _text(required=True)
    na_allowed = _StrictBool()
    note = _text()


class BasisSchema(_Strict):
    document = _pattern(_ID, "文件代号", required=True)
    clause = _text(required=True)


class OptionSchema(_Strict):
    value = _pattern(_OPTION, "选项值", required=True)
    label = _text(required=True)
    fails = _StrictBool(required=True)


class AnswerSchema(_Strict):
    type = _one_of(ANSWER_TYPES, required=True)
    unit = _text()
    min = _StrictNumber()
    max = _StrictNumber()
    options = fields.List(fields.Nested(OptionSchema))


class EvidenceSchema(_Strict):
    photo_required_when_failed = _StrictBool(required=True)


class ItemSchema(_Strict):
    code = _pattern(_ITEM_CODE, "条目代码", required=True)
    section = _text(required=True)
    text = _text(required=True)
    check_method = _text(required=True)
    basis = fields.Nested(BasisSchema, required=True)
    major = _StrictBool(required=True)
    hazard_level_if_failed = _one_of(HAZARD_LEVELS, required=True)
    answer = fields.Nested(AnswerSchema)
    evidence = fields.Nested(EvidenceSchema)
    subtypes = fields.List(fields.String())
    na_allowed = _StrictBool()
    note = _text()


class TemplateSchema(_Strict):
    code = _pattern(_TEMPLATE_CODE, "模板代码", required=True)
    version = _StrictInt(required=True, validate=validate.Range(min=1, error="应为不小于 1 的整数"))
    title = _text(required=True)
    industry = _one_of(INDUSTRIES, required=True)
    subtypes = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, error="至少列出一个适用子类")
    )
    status = _one_of(STATUSES, required=True)
    sources = fields.List(
        fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1, error="至少列出一个引用文件")
    )
    sections = fields.List(
        fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1, error="至少一个分部")
    )
    items = fields.List(
        fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1, error="至少一个检查条目")
    )
    note = _text()


# --------------------------------------------------------------------------- loading


def format_number(number: int | float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def _raw_item_code(raw: Any, index: int) -> str:
    try:
        code = raw["items"][index]["code"]
    except (KeyError, IndexError, TypeError):
        code = None
    return code if isinstance(code, str) and code.strip() else f"#{index + 1}"


def _schema_problems(file: str, raw: Any, messages: Any, path: tuple = ()) -> list[Problem]:
    """Flatten marshmallow's nested error messages into problems that name the item."""
    if isinstance(messages, dict):
        out: list[Problem] = []
        for key, sub in messages.items():
            out.extend(_schema_problems(file, raw, sub, path + (key,)))
        return out
    if isinstance(messages, str):
        messages = [messages]
    item = None
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        item = _raw_item_code(raw, path[1])
    location = ".".join(str(p) for p in path) or None
    return [Problem(file, _MESSAGES.get(m, m) if isinstance(m, str) else str(m), item, location) for m in messages]


def _read(path: Path) -> tuple[Any, list[Problem]]:
    file = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(file, "文件不存在")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, f"无法读取文件（应为 UTF-8 文本）：{exc}")]
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "位置不明"
        return None, [Problem(file, f"YAML 语法错误（{where}）：{exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, f"YAML 语法错误：{exc}")]
    if not isinstance(raw, dict):
        return None, [Problem(file, "文件顶层应为映射（code、version、items 等字段）")]
    return raw, []


def _semantic_problems(file: str, data: dict) -> list[Problem]:
    """Rules the schema cannot express: cross-references, vocabulary, consistency."""
    problems: list[Problem] = []

    def add(message: str, item: str | None = None, location: str | None = None) -> None:
        problems.append(Problem(file, message, item, location))

    industry = INDUSTRIES[data["industry"]]
    if data["code"].split(".")[0] != industry.code:
        add(f"模板代码应以行业代码 “{industry.code}.” 开头", location="code")
    expected_name = f"{data['code']}.v{data['version']}.yaml"
    if file != expected_name:
        add(f"文件名应为 {expected_name}（<code>.v<version>.yaml）")

    subtypes = data["subtypes"]
    for i, st in enumerate(subtypes):
        if st not in industry.subtypes:
            add(
                f"子类 “{st}” 不属于行业 {industry.code}（可用：{', '.join(industry.subtypes)}）",
                location=f"subtypes.{i}",
            )
    if len(set(subtypes)) != len(subtypes):
        add("子类重复", location="subtypes")

    source_ids = [s["id"] for s in data["sources"]]
    for i, sid in enumerate(source_ids):
        if source_ids.index(sid) != i:
            add(f"引用文件代号 “{sid}” 重复", location=f"sources.{i}.id")
    # Only what is handed out must cite finished clauses: a withdrawn version stays as it was published.
    published = data["status"] == "published"
    if published:
        for i, source in enumerate(data["sources"]):
            for key in ("title", "number"):
                if UNFINISHED.search(source.get(key) or ""):
                    add(f"引用文件的标题或文号“{source[key]}”尚未确定", location=f"sources.{i}.{key}")
    local_practice = {s["id"] for s in data["sources"] if s.get("kind") == "local_practice"}

    section_codes = [s["code"] for s in data["sections"]]
    for i, sc in enumerate(section_codes):
        if section_codes.index(sc) != i:
            add(f"分部代码 “{sc}” 重复", location=f"sections.{i}.code")

    seen_codes: dict[str, int] = {}
    used_sources: set[str] = set()
    used_sections: set[str] = set()
    for i, item in enumerate(data["items"]):
        code = item["code"]
        loc = f"items.{i}"
        if code in seen_codes:
            add(f"条目代码重复（与第 {seen_codes[code] + 1} 个条目相同）", code, f"{loc}.code")
        else:
            seen_codes[code] = i
        if item["section"] not in section_codes:
            add(f"分部 “{item['section']}” 未在 sections 中定义", code, f"{loc}.section")
        used_sections.add(item["section"])
        document, clause = item["basis"]["document"], item["basis"]["clause"]
        used_sources.add(document)
        if document not in source_ids:
            add(f"依据文件 “{document}” 未在 sources 中列出", code, f"{loc}.basis.document")
        if published and UNFINISHED.search(clause):
            add(
                f"引用的条款“{clause}”尚未确定；已发布的版本只能引用确有其文的条款，无法确定条款的要求请标为"
                "地方做法（引用 kind: local_practice 的来源）",
                code,
                f"{loc}.basis.clause",
            )
        if item["major"]:
            if document in local_practice:
                add(
                    f"重大事故隐患条目必须引用法律、法规、规章或标准的条款，不能以地方做法（“{document}”）为依据",
                    code,
                    f"{loc}.basis.document",
                )
            if item["hazard_level_if_failed"] != "major":
                add(
                    "重大事故隐患条目（major: true）的 hazard_level_if_failed 必须为 major",
                    code,
                    f"{loc}.hazard_level_if_failed",
                )
            if not item.get("evidence", {}).get("photo_required_when_failed", False):
                add(
                    "重大事故隐患条目必须要求不合格时拍照取证（evidence.photo_required_when_failed: true）",
                    code,
                    f"{loc}.evidence",
                )
        item_subtypes = item.get("subtypes")
        if item_subtypes is not None:
            if not item_subtypes:
                add("subtypes 为空；适用全部子类时请省略该字段", code, f"{loc}.subtypes")
            for j, st in enumerate(item_subtypes):
                if st not in subtypes:
                    add(f"子类 “{st}” 不在模板的 subtypes 中", code, f"{loc}.subtypes.{j}")
            if len(set(item_subtypes)) != len(item_subtypes):
                add("子类重复", code, f"{loc}.subtypes")
        problems.extend(_answer_problems(file, code, f"{loc}.answer", item.get("answer")))

    for i, sid in enumerate(source_ids):
        if sid not in used_sources:
            add(f"引用文件 “{sid}” 未被任何条目引用", location=f"sources.{i}")
    for i, sc in enumerate(section_codes):
        if sc not in used_sections:
            add(f"分部 “{sc}” 没有任何条目", location=f"sections.{i}")
    return problems


def _answer_problems(file: str, code: str, loc: str, answer: dict | None) -> list[Problem]:
    if answer is None:
        return []
    problems: list[Problem] = []

    def add(message: str, where: str = "") -> None:
        problems.append(Problem(file, message, code, loc + where))

    kind = answer["type"]
    if kind != "number":
        for key in ("unit", "min", "max"):
            if key in answer:
                add(f"{key} 只用于 number 类型的答案", f".{key}")
    else:
        if "unit" not in answer:
            add("number 类型的答案必须给出计量单位 unit", ".unit")
        lo, hi = answer.get("min"), answer.get("max")
        if lo is not None and hi is not None and lo > hi:
            add(f"限值不一致：min（{format_number(lo)}）大于 max（{format_number(hi)}）")
    if kind != "choice":
        if "options" in answer:
            add("options 只用于 choice 类型的答案", ".options")
    else:
        options = answer.get("options") or []
        if len(options) < 2:
            add("choice 类型至少需要两个选项", ".options")
        values = [o["value"] for o in options]
        if len(set(values)) != len(values):
            add("选项值重复", ".options")
        if options and not any(o["fails"] for o in options):
            add("choice 类型至少需要一个判为不合格的选项（fails: true）", ".options")
        if options and all(o["fails"] for o in options):
            add("choice 类型至少需要一个合格选项（fails: false）", ".options")
    return problems


def _build(data: dict, path: Path | None) -> Template:
    sources = tuple(Source(**s) for s in data["sources"])
    titles = {s.id: s.title for s in sources}
    sections = tuple(Section(**s) for s in data["sections"])
    section_na = {s.code: s.na_allowed for s in sections}
    items = []
    for raw in data["items"]:
        answer = raw.get("answer") or {"type": "pass_fail"}
        spec = AnswerSpec(
            type=answer["type"],
            unit=answer.get("unit"),
            min=answer.get("min"),
            max=answer.get("max"),
            options=tuple(Option(**o) for o in answer.get("options") or ()),
        )
        subtypes = tuple(raw.get("subtypes") or ())
        # 不适用 is allowed where the item says so; otherwise items limited to some sub-types may
        # be 不适用 (the enterprise may not be one of them), and other items follow their section.
        na_allowed = raw.get("na_allowed")
        if na_allowed is None:
            na_allowed = True if subtypes else section_na[raw["section"]]
        items.append(
            Item(
                code=raw["code"],
                section=raw["section"],
                text=raw["text"],
                check_method=raw["check_method"],
                basis=Basis(raw["basis"]["document"], raw["basis"]["clause"], titles[raw["basis"]["document"]]),
                major=raw["major"],
                hazard_level_if_failed=raw["hazard_level_if_failed"],
                answer=spec,
                evidence=Evidence(**(raw.get("evidence") or {})),
                na_allowed=na_allowed,
                subtypes=subtypes,
                note=raw.get("note"),
            )
        )
    return Template(
        code=data["code"],
        version=data["version"],
        title=data["title"],
        industry=data["industry"],
        subtypes=tuple(data["subtypes"]),
        status=data["status"],
        sources=sources,
        sections=sections,
        items=tuple(items),
        note=data.get("note"),
        path=path,
    )


def _load(path: Path) -> tuple[Template | None, list[Problem]]:
    raw, problems = _read(path)
    if problems:
        return None, problems
    try:
        data = TemplateSchema().load(raw)
    except ValidationError as exc:
        return None, _schema_problems(path.name, raw, exc.messages)
    # Marshmallow drops keys it was not given; fill the section default here so _build is simple.
    for section in data["sections"]:
        section.setdefault("na_allowed", False)
    problems = _semantic_problems(path.name, data)
    if problems:
        return None, problems
    return _build(data, path), []


def load_template(path: str | Path) -> Template:
    """Load and validate one template file; raise :class:`TemplateInvalid` listing every problem."""
    template, problems = _load(Path(path))
    if problems:
        raise TemplateInvalid(problems)
    return template


def _set_problems(templates: Sequence[Template]) -> list[Problem]:
    """Rules across files: one file per (code, version); an item code keeps its meaning."""
    problems: list[Problem] = []
    by_key: dict[tuple[str, int], Template] = {}
    versions: dict[str, list[Template]] = defaultdict(list)
    for t in templates:
        name = t.path.name if t.path else f"{t.code}.v{t.version}"
        if (t.code, t.version) in by_key:
            other = by_key[(t.code, t.version)]
            problems.append(
                Problem(name, f"模板 {t.code} 第 {t.version} 版重复（另见 {other.path.name if other.path else '?'}）")
            )
            continue
        by_key[(t.code, t.version)] = t
        versions[t.code].append(t)
    for code, group in versions.items():
        group.sort(key=lambda t: t.version)
        first_seen: dict[str, tuple[Template, Item]] = {}
        for t in group:
            name = t.path.name if t.path else f"{t.code}.v{t.version}"
            if t.industry != group[0].industry:
                problems.append(
                    Problem(name, f"同一模板各版本的行业必须相同（v{group[0].version} 为 {group[0].industry}）")
                )
            for item in t.items:
                if item.code not in first_seen:
                    first_seen[item.code] = (t, item)
                    continue
                earlier_t, earlier = first_seen[item.code]
                if (earlier.major, earlier.answer.type) != (item.major, item.answer.type):
                    problems.append(
                        Problem(
                            name,
                            f"条目代码在 v{earlier_t.version} 中含义不同（major 或答案类型已改变）；"
                            "改变含义必须使用新的条目代码",
                            item.code,
                        )
                    )
    return problems


def _scan(directory: Path) -> tuple[list[Template], list[Problem]]:
    if not directory.is_dir():
        return [], [Problem(str(directory), "模板目录不存在")]
    templates: list[Template] = []
    problems: list[Problem] = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".yml":
            problems.append(Problem(path.name, "扩展名应为 .yaml"))
            continue
        if path.suffix != ".yaml" or not path.is_file():
            continue
        template, found = _load(path)
        problems.extend(found)
        if template is not None:
            templates.append(template)
    problems.extend(_set_problems(templates))
    templates.sort(key=lambda t: (t.code, t.version))
    return templates, problems


def load_all(directory: str | Path = DEFAULT_DIRECTORY) -> list[Template]:
    """Every template version in the directory, sorted by (code, version).

    All-or-nothing: any bad file raises :class:`TemplateInvalid` with every problem found."""
    templates, problems = _scan(Path(directory))
    if problems:
        raise TemplateInvalid(problems)
    return templates


def validate_all(directory: str | Path = DEFAULT_DIRECTORY) -> list[str]:
    """Problems in the directory, one line each (empty when all is well). Never raises."""
    return [str(p) for p in _scan(Path(directory))[1]]


# --------------------------------------------------------------------------- applicability


def _latest(templates: Iterable[Template]) -> list[Template]:
    best: dict[str, Template] = {}
    for t in templates:
        if t.published and (t.code not in best or t.version > best[t.code].version):
            best[t.code] = t
    return sorted(best.values(), key=lambda t: t.code)


def templates_for(
    industry: str, subtype: str | None = None, templates: Iterable[Template] | None = None
) -> list[Template]:
    """The templates that apply to an enterprise of this industry and sub-type.

    Only published versions count, and of those the latest per template code (a withdrawn v2
    lets v1 apply again). ``subtype=None`` means every template of the industry. Unknown codes
    are refused rather than answered with an empty list, which would hide a data error.
    """
    errors = []
    if industry not in INDUSTRIES:
        errors.append(FieldError("checklist.unknown_industry", "industry", f"未知行业代码 “{industry}”"))
    elif subtype is not None and subtype not in INDUSTRIES[industry].subtypes:
        errors.append(FieldError("checklist.unknown_subtype", "subtype", f"行业 {industry} 没有子类 “{subtype}”"))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    if templates is None:
        templates = load_all()
    return [t for t in _latest(templates) if t.industry == industry and (subtype is None or subtype in t.subtypes)]


def find_template(templates: Iterable[Template], code: str, version: int | None = None) -> Template:
    """A given version of a template, or its latest published version; :class:`NotFound` if none."""
    templates = list(templates)
    if version is None:
        found = [t for t in _latest(templates) if t.code == code]
    else:
        found = [t for t in templates if t.code == code and t.version == version]
    if not found:
        what = f"{code} 第 {version} 版" if version is not None else f"{code}（已发布版本）"
        raise NotFound(f"检查表模板 {what} 不存在", code="checklist.not_found")
    return found[0]
