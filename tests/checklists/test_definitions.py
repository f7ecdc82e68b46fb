"""Template files: the shipped ones load; bad ones are refused naming file, item and problem;
content hashes; applicability. Pure: temporary files only, no database."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import yaml

from checklists import (
    INDUSTRIES,
    Template,
    TemplateInvalid,
    content_hash,
    find_template,
    load_all,
    load_template,
    templates_for,
    validate_all,
)
from checklists.cli_validate import main as cli_main
from checklists.definition import UNFINISHED
from core.errors import NotFound, ValidationFailed

REQUIRED_CODES = {
    "fireworks.production_wholesale",
    "fireworks.retail",
    "hazardous_chemicals.production",
    "hazardous_chemicals.trading_storage",
    "hazardous_chemicals.filling_station",
    "construction.housing_municipal",
    "special_equipment.user_unit",
    "gas.operator",
    "gas.user",
}

MINIMAL = {
    "code": "fireworks.retail",
    "version": 1,
    "title": "测试检查表",
    "industry": "fireworks",
    "subtypes": ["retail"],
    "status": "published",
    "sources": [{"id": "doc", "title": "《测试判定标准》", "number": "测〔2024〕1号"}],
    "sections": [{"code": "main", "title": "主要"}],
    "items": [
        {
            "code": "T-001",
            "section": "main",
            "text": "零售点与居民居住场所设置在同一建筑物内。",
            "check_method": "现场查看。",
            "basis": {"document": "doc", "clause": "第二十项"},
            "major": True,
            "hazard_level_if_failed": "major",
            "evidence": {"photo_required_when_failed": True},
        },
        {
            "code": "T-002",
            "section": "main",
            "text": "零售场所面积小于10平方米。",
            "check_method": "现场测量。",
            "basis": {"document": "doc", "clause": "第十六条"},
            "major": False,
            "hazard_level_if_failed": "general",
            "answer": {"type": "number", "unit": "平方米", "min": 10},
        },
    ],
}


def _write(folder, data, name=None):
    path = folder / (name or f"{data['code']}.v{data['version']}.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _refused(path) -> TemplateInvalid:
    with pytest.raises(TemplateInvalid) as caught:
        load_template(path)
    return caught.value


def _data(**changes):
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


# --------------------------------------------------------------------------- shipped templates


@pytest.fixture(scope="module")
def shipped():
    return load_all()


def test_all_shipped_templates_load_and_validate(shipped):
    assert validate_all() == []
    assert {t.code for t in shipped} >= REQUIRED_CODES
    for t in shipped:
        assert t.path is not None and t.path.name == f"{t.code}.v{t.version}.yaml"
        assert t.industry in INDUSTRIES and set(t.subtypes) <= set(INDUSTRIES[t.industry].subtypes)


def test_shipped_items_are_consistent(shipped):
    for t in shipped:
        for item in t.items:
            assert item.basis.clause.strip() and t.source(item.basis.document) is not None
            assert item.section in {s.code for s in t.sections}
            if item.major:
                assert item.hazard_level_if_failed == "major"
                assert item.evidence.photo_required_when_failed
            if item.subtypes:
                assert set(item.subtypes) < set(t.subtypes)


def test_every_subtype_of_every_industry_has_a_template(shipped):
    for industry in INDUSTRIES.values():
        for subtype in industry.subtypes:
            assert templates_for(industry.code, subtype, shipped), (industry.code, subtype)


@pytest.mark.parametrize(
    "concept,words",
    [
        ("证照", ("许可证", "使用登记", "经营许可")),
        ("全员安全生产责任制", ("责任制",)),
        ("培训与持证", ("培训", "持证", "考核合格", "取得相应资格")),
        ("隐患排查治理", ("隐患排查", "隐患自查", "隐患治理", "安全自查")),
        ("应急预案与演练", ("应急",)),
    ],
)
def test_every_template_has_the_general_items(shipped, concept, words):
    for t in shipped:
        assert any(any(w in i.text for w in words) for i in t.items), (t.code, concept)


@pytest.mark.parametrize(
    "code,words",
    [
        ("fireworks.retail", ("下店上宅", "超量储存", "明火", "试放", "超规格")),
        ("fireworks.production_wholesale", ("超量储存", "乱堆乱放", "监封签")),
        ("gas.user", ("可燃气体报警装置", "软管", "熄火保护")),
        ("gas.operator", ("老化",)),
        ("construction.housing_municipal", ("安全带", "生命线", "到岗履职", "人工挖孔", "无证施工", "挂靠")),
        ("hazardous_chemicals.filling_station", ("动火", "紧急切断", "检测报警")),
        ("special_equipment.user_unit", ("使用登记", "定期检验", "无证上岗", "双重预防机制")),
    ],
)
def test_items_the_seed_work_plans_name_are_there(shipped, code, words):
    text = "".join(i.text for i in find_template(shipped, code).items)
    for word in words:
        assert word in text, (code, word)


def test_number_limits_are_only_those_the_reference_gives(shipped):
    limits = {
        (t.code, i.code): (i.answer.unit, i.answer.min, i.answer.max)
        for t in shipped
        for i in t.items
        if i.answer.type == "number"
    }
    assert limits == {
        ("fireworks.retail", "FW-R-011"): ("平方米", 10, None),
        ("fireworks.retail", "FW-R-012"): ("米", 50, None),
        ("fireworks.retail", "FW-R-013"): ("米", 100, None),
        ("gas.user", "GS-U-012"): ("米", 0.5, None),
        ("gas.user", "GS-U-020"): ("米", None, 2),
    }


def test_no_published_template_cites_an_unfinished_clause(shipped):
    """A court accepts a clause, not a promise of one (待核, 待定, TODO …)."""
    unfinished = [
        (t.code, t.version, i.code, i.basis.clause)
        for t in shipped
        if t.published
        for i in t.items
        if UNFINISHED.search(i.basis.clause)
    ]
    unfinished += [
        (t.code, t.version, s.id, f"{s.title} {s.number or ''}")
        for t in shipped
        if t.published
        for s in t.sources
        if UNFINISHED.search(f"{s.title} {s.number or ''}")
    ]
    assert unfinished == []


def test_work_plans_are_cited_as_local_practice(shipped):
    """A county or township 工作要点/工作方案 is not national law: a published version marks it
    `kind: local_practice`, so clients print its items as 地方做法, not as a statute."""
    plans = [
        (t.code, t.version, s.id, s.kind)
        for t in shipped
        if t.published
        for s in t.sources
        if any(word in s.title for word in ("工作要点", "工作方案", "工作意见", "工作计划"))
    ]
    assert plans and {kind for *_, kind in plans} == {"local_practice"}, plans


# Published versions never change (checklists/service.py refuses a file that hashes differently from
# the stored version). These are the hashes every version was published with, withdrawn ones included.
PUBLISHED_HASHES = {
    ("construction.housing_municipal", 1): "bcde4799fc627f421ab59092259ebcdf1cc598549254c27b69bee327ed2afa9b",
    ("construction.housing_municipal", 2): "765d2f82012375b0f47ff33407a75a6e217e7f6bf734fe79b9ef291869e375e2",
    ("fireworks.production_wholesale", 1): "eb6fa0729a69a9ce013a499ac9f616886ae422fdb1f325baacfb5cb8c1785fc8",
    ("fireworks.production_wholesale", 2): "64c02610c8117bf75b46e27dad25815a7fa2874b2e21fb9dce99f7b05e892bf4",
    ("fireworks.retail", 1): "f30ac7244f5850b0c215d758422e92cb1122ff7a68f751c0152c9d4472697649",
    ("fireworks.retail", 2): "6322b5c03971c5b8dbf7c716c1844025897f89b0e0e52a2b40de54458faa83f9",
    ("gas.operator", 1): "3b8d827d6839aeb827361512293441f7c10f205f7fca6676819373080b799a2d",
    ("gas.operator", 2): "59a3d127075558be4a507fb1361966697175e0c0909939ac62c78dcc99600651",
    ("gas.user", 1): "800758be1561c74f340e91359899714d5c730201ab9b805cec931d549305c930",
    ("gas.user", 2): "b76603b120535ac9904fb15342866433bdc8f4fcf9781fa867ffa5a6b9c8e692",
    ("hazardous_chemicals.filling_station", 1): "91332c3cb08350ad3d6b863048045acef1f3ad28ea82d77b982712eb902aa95d",
    ("hazardous_chemicals.filling_station", 2): "7d12eaa31ed02b42bbae9a96f403323b46cef1d9083be968fdd63d330b0b5163",
    ("hazardous_chemicals.production", 1): "d29a8e87ce4d41e0047aa7aea4278ba3a9b95e79fc59d0b58ce5690caf806387",
    ("hazardous_chemicals.trading_storage", 1): "c9039aa35f6487c0ed15472ec6ada7899a17ff053ae4cdb885d3642058af6464",
    ("special_equipment.user_unit", 1): "690f5b012454459850ddf463cee3051b728eaff39cf1b23fe7205832d327bccf",
    ("special_equipment.user_unit", 2): "692172a04639d14a9024cf7bee24a3970ab758b5772656b13b45f2418c9bfa71",
}


def test_published_versions_keep_their_content(shipped):
    hashes = {(t.code, t.version): content_hash(t) for t in shipped}
    assert {key: hashes.get(key) for key in PUBLISHED_HASHES} == PUBLISHED_HASHES


def test_special_equipment_has_a_section_per_kind(shipped):
    sections = {s.code for s in find_template(shipped, "special_equipment.user_unit").sections}
    assert {"elevator", "hoisting", "boiler", "pressure_vessel", "pressure_piping", "vehicle"} <= sections


def test_as_dict_is_json_and_round_trips(shipped):
    for t in shipped:
        data = json.loads(json.dumps(t.as_dict(), ensure_ascii=False))
        assert data["items"][0]["basis"]["title"].startswith("《")
        again = Template.from_dict(data)
        assert again == t and content_hash(again) == content_hash(t)


# --------------------------------------------------------------------------- refused files


def test_minimal_template_loads(tmp_path):
    t = load_template(_write(tmp_path, MINIMAL))
    assert [i.code for i in t.items] == ["T-001", "T-002"]
    assert t.item("T-002").answer.min == 10 and t.item("T-001").basis.title == "《测试判定标准》"


def test_duplicate_item_codes(tmp_path):
    data = _data()
    data["items"][1]["code"] = "T-001"
    err = _refused(_write(tmp_path, data))
    assert isinstance(err, ValidationFailed) and err.code == "checklist.invalid" and err.status == 422
    assert "fireworks.retail.v1.yaml" in err.detail and "T-001" in err.detail and "重复" in err.detail
    assert err.errors[0].field == "items.1.code"


def test_missing_basis(tmp_path):
    data = _data()
    del data["items"][1]["basis"]
    err = _refused(_write(tmp_path, data))
    assert err.problems == ["fireworks.retail.v1.yaml：条目 T-002：items.1.basis：缺少必填字段"]


def test_empty_clause_and_unknown_document(tmp_path):
    data = _data()
    data["items"][0]["basis"] = {"document": "other", "clause": " "}
    problems = "\n".join(_refused(_write(tmp_path, data)).problems)
    assert "条目 T-001：items.0.basis.clause：不能为空" in problems


def test_basis_must_name_a_listed_source(tmp_path):
    data = _data()
    data["items"][0]["basis"]["document"] = "other"
    problems = _refused(_write(tmp_path, data)).problems
    assert any("T-001" in p and "“other” 未在 sources 中列出" in p for p in problems)


def test_unknown_field(tmp_path):
    data = _data()
    data["items"][1]["severity"] = "high"
    err = _refused(_write(tmp_path, data))
    assert err.problems == ["fireworks.retail.v1.yaml：条目 T-002：items.1.severity：未知字段（不允许）"]


def test_unknown_top_level_field(tmp_path):
    err = _refused(_write(tmp_path, _data(author="张三")))
    assert err.problems == ["fireworks.retail.v1.yaml：author：未知字段（不允许）"]


def test_major_without_photo_rule(tmp_path):
    data = _data()
    del data["items"][0]["evidence"]
    err = _refused(_write(tmp_path, data))
    assert "fireworks.retail.v1.yaml" in err.detail and "T-001" in err.detail
    assert "photo_required_when_failed" in err.detail


def test_major_with_general_level(tmp_path):
    data = _data()
    data["items"][0]["hazard_level_if_failed"] = "general"
    err = _refused(_write(tmp_path, data))
    assert "条目 T-001" in err.detail and "hazard_level_if_failed 必须为 major" in err.detail


def test_bad_yaml(tmp_path):
    path = tmp_path / "fireworks.retail.v1.yaml"
    path.write_text("code: fireworks.retail\nitems: [\n  {code: T-001\n", encoding="utf-8")
    err = _refused(path)
    assert err.detail.startswith("fireworks.retail.v1.yaml：YAML 语法错误（第 ")


def test_duplicate_yaml_key_is_not_silently_overwritten(tmp_path):
    path = _write(tmp_path, MINIMAL)
    text = path.read_text(encoding="utf-8").replace("  major: false\n", "  major: false\n  major: true\n", 1)
    path.write_text(text, encoding="utf-8")
    err = _refused(path)
    assert "YAML" in err.detail and "'major' 重复" in err.detail


def test_yaml_11_booleans_are_not_booleans(tmp_path):
    path = _write(tmp_path, MINIMAL)
    path.write_text(path.read_text(encoding="utf-8").replace("major: false", "major: no", 1), encoding="utf-8")
    assert "应为布尔值" in _refused(path).detail


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "fireworks.retail.v1.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "顶层应为映射" in _refused(path).detail


def test_missing_file(tmp_path):
    assert "文件不存在" in _refused(tmp_path / "gas.user.v1.yaml").detail


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            lambda d: d["items"][1].update(section="nowhere"),
            "条目 T-002：items.1.section：分部 “nowhere” 未在 sections 中定义",
        ),
        (
            lambda d: d["items"][1].update(subtypes=["wholesale"]),
            "条目 T-002：items.1.subtypes.0：子类 “wholesale” 不在模板的 subtypes 中",
        ),
        (lambda d: d.update(subtypes=["retail", "bakery"]), "subtypes.1：子类 “bakery” 不属于行业 fireworks"),
        (lambda d: d.update(industry="mining"), "industry：应为 fireworks | hazardous_chemicals"),
        (lambda d: d.update(version=0), "version：应为不小于 1 的整数"),
        (lambda d: d.update(status="draft"), "status：应为 published | withdrawn 之一"),
        (
            lambda d: d["items"][1]["answer"].update(max=5),
            "条目 T-002：items.1.answer：限值不一致：min（10）大于 max（5）",
        ),
        (
            lambda d: d["items"][1]["answer"].pop("unit"),
            "条目 T-002：items.1.answer.unit：number 类型的答案必须给出计量单位 unit",
        ),
        (lambda d: d["items"][1]["answer"].update(min="10"), "条目 T-002：items.1.answer.min：应为数值"),
        (
            lambda d: d["items"][1].update(answer={"type": "pass_fail", "min": 1}),
            "条目 T-002：items.1.answer.min：min 只用于 number 类型的答案",
        ),
        (
            lambda d: d["items"][1].update(
                answer={
                    "type": "choice",
                    "options": [
                        {"value": "ok", "label": "好", "fails": False},
                        {"value": "ok2", "label": "也好", "fails": False},
                    ],
                }
            ),
            "条目 T-002：items.1.answer.options：choice 类型至少需要一个判为不合格的选项",
        ),
        (lambda d: d["items"][1].update(code="t-2"), "条目 t-2：items.1.code：条目代码格式不正确"),
        (lambda d: d["sections"].append({"code": "empty", "title": "空"}), "sections.1：分部 “empty” 没有任何条目"),
        (
            lambda d: d["sources"].append({"id": "unused", "title": "《未引用》"}),
            "sources.1：引用文件 “unused” 未被任何条目引用",
        ),
        (lambda d: d.update(code="gas.retail"), "code：模板代码应以行业代码 “fireworks.” 开头"),
    ],
)
def test_semantic_problems(tmp_path, change, expected):
    data = _data()
    change(data)
    name = "fireworks.retail.v1.yaml"
    problems = _refused(_write(tmp_path, data, name)).problems
    assert any(p.startswith(f"{name}：") and expected in p for p in problems), problems


@pytest.mark.parametrize(
    "clause",
    [
        "起重机械相关条款（正式条款号待核）",
        "瓶装燃气相关条款（条号待核）",
        "第X条（待定）",
        "第十条 TODO",
        "第 xxx 条",
        "第十条？",
    ],
)
def test_an_unfinished_clause_is_refused_in_a_published_version(tmp_path, clause):
    data = _data()
    data["items"][1]["basis"]["clause"] = clause
    problems = _refused(_write(tmp_path, data)).problems
    assert problems == [
        f"fireworks.retail.v1.yaml：条目 T-002：items.1.basis.clause：引用的条款“{clause}”"
        "尚未确定；已发布的版本只能引用确有其文的条款，无法确定条款的要求请标为地方做法"
        "（引用 kind: local_practice 的来源）"
    ]
    # A withdrawn version stays readable as it was published.
    data["status"] = "withdrawn"
    assert load_template(_write(tmp_path, data)).item("T-002").basis.clause == clause


def test_an_unfinished_source_number_is_refused(tmp_path):
    data = _data()
    data["sources"][0]["number"] = "文号待查"
    problems = _refused(_write(tmp_path, data)).problems
    assert problems == ["fireworks.retail.v1.yaml：sources.0.number：引用文件的标题或文号“文号待查”尚未确定"]


def _local_practice(data):
    data["sources"].append(
        {"id": "practice", "title": "区燃气安全整治工作要点", "kind": "local_practice", "issuer": "区人民政府"}
    )
    data["items"][1]["basis"] = {"document": "practice", "clause": "第15条"}
    return data


def test_local_practice_is_a_kind_of_source(tmp_path):
    t = load_template(_write(tmp_path, _local_practice(_data())))
    assert t.source("practice").kind == "local_practice" and t.source("doc").kind is None
    sources = t.as_dict()["sources"]
    assert sources[1]["kind"] == "local_practice"
    # An official document carries no kind key, so versions written before kinds existed keep their hash.
    assert "kind" not in sources[0]
    assert Template.from_dict(json.loads(json.dumps(t.as_dict()))) == t


def test_a_major_item_cannot_rest_on_local_practice(tmp_path):
    data = _local_practice(_data())
    data["items"][1]["basis"] = {"document": "doc", "clause": "第十六条"}
    data["items"][0]["basis"] = {"document": "practice", "clause": "第15条"}
    problems = _refused(_write(tmp_path, data)).problems
    assert problems == [
        "fireworks.retail.v1.yaml：条目 T-001：items.0.basis.document：重大事故隐患条目必须引用"
        "法律、法规、规章或标准的条款，不能以地方做法（“practice”）为依据"
    ]


def test_source_kind_is_a_known_word(tmp_path):
    data = _local_practice(_data())
    data["sources"][1]["kind"] = "custom"
    assert "sources.1.kind：应为 local_practice 之一" in _refused(_write(tmp_path, data)).detail


def test_file_name_must_match_code_and_version(tmp_path):
    err = _refused(_write(tmp_path, MINIMAL, "retail.yaml"))
    assert "retail.yaml：文件名应为 fireworks.retail.v1.yaml" in err.detail


def test_every_problem_is_reported_at_once(tmp_path):
    data = _data()
    data["items"][0]["evidence"] = {"photo_required_when_failed": False}
    data["items"][1]["section"] = "nowhere"
    err = _refused(_write(tmp_path, data))
    assert len(err.problems) == 2 and "另有 1 处问题" in err.detail
    assert [e.field for e in err.errors] == ["items.0.evidence", "items.1.section"]


# --------------------------------------------------------------------------- directories


def test_load_all_is_all_or_nothing_and_validate_all_lists(tmp_path):
    _write(tmp_path, MINIMAL)
    bad = _data(code="gas.user", industry="gas", subtypes=["catering"])
    bad["items"][0]["code"] = "bad code"
    _write(tmp_path, bad)
    problems = validate_all(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("gas.user.v1.yaml：条目 bad code：")
    with pytest.raises(TemplateInvalid):
        load_all(tmp_path)
    assert validate_all(tmp_path / "nowhere")[0].endswith("模板目录不存在")


def test_an_item_code_keeps_its_meaning_across_versions(tmp_path):
    _write(tmp_path, MINIMAL)
    v2 = _data(version=2)
    v2["items"][1].update(major=True, hazard_level_if_failed="major", evidence={"photo_required_when_failed": True})
    _write(tmp_path, v2)
    problems = validate_all(tmp_path)
    assert problems == [
        "fireworks.retail.v2.yaml：条目 T-002：条目代码在 v1 中含义不同（major 或答案类型已改变）；"
        "改变含义必须使用新的条目代码"
    ]


def test_a_new_version_may_reword_and_add_items(tmp_path):
    _write(tmp_path, MINIMAL)
    v2 = _data(version=2)
    v2["items"][0]["text"] += "（措辞修订）"
    v2["items"].append({**v2["items"][1], "code": "T-003"})
    _write(tmp_path, v2)
    assert [t.version for t in load_all(tmp_path)] == [1, 2]


def test_cli(tmp_path, capsys):
    assert cli_main([]) == 0
    out = capsys.readouterr().out
    assert "fireworks.retail v1 [withdrawn]" in out and "fireworks.retail v2 [published]" in out
    (tmp_path / "bad.v1.yaml").write_text("code: bad\nversion: 1\n", encoding="utf-8")
    assert cli_main([str(tmp_path)]) == 1
    assert "bad.v1.yaml" in capsys.readouterr().out


# --------------------------------------------------------------------------- content hash


def _reorder(value):
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


def test_content_hash_ignores_key_order_and_formatting(tmp_path):
    first = load_template(_write(tmp_path, MINIMAL))
    (tmp_path / "other").mkdir()
    reordered = tmp_path / "other" / "fireworks.retail.v1.yaml"
    # Reversed keys, flow style, a comment and a float written 10.0: the same content.
    text = "# 注释\n" + yaml.safe_dump(
        _reorder(MINIMAL), allow_unicode=True, sort_keys=False, default_flow_style=True, width=60
    )
    text = text.replace("min: 10", "min: 10.0")
    assert "min: 10.0" in text and text.index("status") < text.index("code: fireworks.retail")
    reordered.write_text(text, encoding="utf-8")
    second = load_template(reordered)
    assert content_hash(first) == content_hash(second)
    assert len(content_hash(first)) == 64


def test_content_hash_changes_with_the_text_but_not_the_status(tmp_path):
    base = load_template(_write(tmp_path, MINIMAL))
    edited = dataclasses.replace(base, items=(dataclasses.replace(base.items[0], text="改动后的文字。"), base.items[1]))
    assert content_hash(edited) != content_hash(base)
    withdrawn = dataclasses.replace(base, status="withdrawn")
    assert content_hash(withdrawn) == content_hash(base)
    assert content_hash(dataclasses.replace(base, version=2)) != content_hash(base)


def test_content_hash_of_shipped_templates_is_stable(shipped):
    again = {t.code: content_hash(t) for t in load_all()}
    assert again == {t.code: content_hash(t) for t in shipped}


# --------------------------------------------------------------------------- applicability


def _version(t: Template, version: int, status: str = "published") -> Template:
    return dataclasses.replace(t, version=version, status=status)


def test_templates_for_enterprise_subtypes(shipped):
    def codes(industry, subtype=None):
        return [t.code for t in templates_for(industry, subtype, shipped)]

    assert codes("fireworks", "retail") == ["fireworks.retail"]
    assert codes("fireworks", "wholesale") == ["fireworks.production_wholesale"]
    assert codes("fireworks", "production") == ["fireworks.production_wholesale"]
    assert codes("hazardous_chemicals", "trading") == ["hazardous_chemicals.trading_storage"]
    assert codes("hazardous_chemicals", "storage") == ["hazardous_chemicals.trading_storage"]
    assert codes("hazardous_chemicals", "filling_station") == ["hazardous_chemicals.filling_station"]
    assert codes("construction", "housing_municipal") == ["construction.housing_municipal"]
    assert codes("special_equipment", "user_unit") == ["special_equipment.user_unit"]
    assert codes("gas", "station") == ["gas.operator"]
    assert codes("gas", "catering") == codes("gas", "other_user") == ["gas.user"]
    assert codes("gas") == ["gas.operator", "gas.user"]


def test_templates_for_refuses_unknown_codes(shipped):
    with pytest.raises(ValidationFailed) as err:
        templates_for("mining", None, shipped)
    assert err.value.errors[0].field == "industry"
    with pytest.raises(ValidationFailed) as err:
        templates_for("gas", "retail", shipped)
    assert err.value.errors[0].code == "checklist.unknown_subtype"


def test_templates_for_takes_latest_published_and_skips_withdrawn(shipped):
    retail = find_template(shipped, "fireworks.retail")
    v2 = _version(retail, 2)
    assert templates_for("fireworks", "retail", [retail, v2]) == [v2]
    # A withdrawn revision lets the previous published version apply again.
    assert templates_for("fireworks", "retail", [retail, _version(retail, 2, "withdrawn")]) == [retail]
    assert templates_for("fireworks", "retail", [_version(retail, 1, "withdrawn")]) == []


def test_find_template(shipped):
    retail = find_template(shipped, "fireworks.retail")
    assert find_template(shipped, "fireworks.retail", retail.version) is retail
    assert find_template(shipped, "fireworks.retail", 1).status == "withdrawn"
    with pytest.raises(NotFound) as err:
        find_template(shipped, "fireworks.retail", 9)
    assert err.value.code == "checklist.not_found"
