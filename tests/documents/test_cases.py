"""行政处罚 cases: 简易程序 decided on site within its limit, 一般程序 through its steps with the deadlines
of the law from the clock, the documents each step issues (立案审批表, 行政处罚告知书, 听证告知书,
行政处罚决定书, 结案审批表), scope."""

import re
import uuid

from tests.documents.conftest import pdf_text

FACTS = "2026年11月22日现场检查发现，该单位使用的 1 台叉车未经定期检验。"


def _case(demo, **extra):
    body = {
        "procedure": "general",
        "enterprise_id": str(demo.retailer.id),
        "officers": [str(demo.users["inspector1"].id), str(demo.users["inspector2"].id)],
        "facts": FACTS,
        "violated": "《中华人民共和国特种设备安全法》第四十条第三款",
    }
    body.update(extra)
    return body


def _step(client, headers, case, action, **data):
    return client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        headers=headers,
        json={"action": action, "base_version": case["version"], **data},
    )


def _documents(client, headers, case) -> dict:
    """The case's documents by kind (each issued once here)."""
    items = client.get(f"/api/v1/cases/{case['id']}/documents", headers=headers).get_json()["items"]
    assert len({d["kind"] for d in items}) == len(items)
    return {d["kind"]: d for d in items}


def _text(client, headers, document) -> str:
    response = client.get(document["pdf"], headers=headers)
    assert response.status_code == 200
    return re.sub(r"\s+", "", pdf_text(response.data, layout=False))


def test_a_simple_procedure_is_decided_on_site_within_3000_yuan(client, login, demo, issue):
    headers = login("inspector1")
    over = client.post(
        "/api/v1/cases",
        headers=headers,
        json=_case(
            demo,
            procedure="simple",
            penalty_basis="《安全生产违法行为行政处罚办法》第四十五条",
            penalty="罚款",
            amount=3000.01,
        ),
    )
    assert over.status_code == 422 and over.get_json()["errors"][0]["code"] == "case.simple_amount_exceeded"
    made = client.post(
        "/api/v1/cases",
        headers=headers,
        json=_case(
            demo,
            procedure="simple",
            penalty_basis="《安全生产违法行为行政处罚办法》第四十五条",
            penalty="警告并处罚款",
            amount=2000,
        ),
    )
    assert made.status_code == 201, made.get_json()
    case = made.get_json()
    assert case["status"] == "decided" and case["deadlines"]["payment"].startswith("2026-12-07T23:59:59")
    documents = _documents(client, headers, case)
    assert list(documents) == ["penalty_decision"]  # decided on site: no 立案, no 告知
    document = documents["penalty_decision"]
    assert re.fullmatch(r"（安巡示范）应急罚〔2026〕\d+号", document["number"])
    again = issue("inspector1", "cases", case["id"], "penalty_decision")
    assert again.status_code == 409 and again.get_json()["code"] == "document.already_issued"
    text_ = _text(client, headers, document)
    for field in (
        "行政处罚决定书（简易程序）",
        "当事人",
        demo.retailer.name,
        demo.retailer.uscc,
        "2,000.00元",
        "第四十五条",
        "第四十条第三款",
        "2026年12月7日",
        demo.users["inspector2"].name,
    ):
        assert field in text_, field


def test_a_general_procedure_runs_file_investigate_notify_decide_execute_close(
    client, login, demo, clock, issue, inspection_body, first_items
):
    headers = login("inspector1")
    body = inspection_body(fail=[first_items[0]])
    assert client.post("/api/v1/inspections", headers=headers, json=body).status_code == 201
    record = issue("inspector1", "inspections", body["id"], "site_inspection_record").get_json()
    case = client.post("/api/v1/cases", headers=headers, json=_case(demo, inspection_ids=[body["id"]])).get_json()
    assert case["status"] == "filed" and case["deadlines"]["decision"].startswith("2027-02-20T23:59:59")
    filing = _documents(client, headers, case)["case_filing_approval"]
    assert re.fullmatch(r"（安巡示范）应急立〔2026〕\d+号", filing["number"])
    assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json()["number"] == filing["number"]
    text_ = _text(client, headers, filing)
    for field in (
        "立案审批表",
        "案由",
        "案件来源",
        record["number"],
        demo.retailer.name,
        demo.retailer.uscc,
        "叉车未经定期检验",
        "第四十条第三款",
        "第五十四条",
        "2027年2月20日",
        demo.users["inspector2"].name,
        demo.users["inspector2"].enforcement_cert_no,
        "负责人（签名）",
    ):
        assert field in text_, field
    assert issue("inspector1", "cases", case["id"], "penalty_decision").get_json()["code"] == "document.not_applicable"
    assert issue("inspector1", "cases", case["id"], "penalty_notice").get_json()["code"] == "document.not_applicable"
    case = _step(client, headers, case, "investigate").get_json()
    assert list(_documents(client, headers, case)) == ["case_filing_approval"]
    case = _step(
        client,
        headers,
        case,
        "notify",
        hearing_offered=True,
        penalty_basis="《中华人民共和国特种设备安全法》第八十四条第（一）项",
        penalty="罚款",
        amount=30000,
    ).get_json()
    assert case["deadlines"]["statement"].startswith("2026-11-25") and case["deadlines"]["hearing_request"].startswith(
        "2026-11-27"
    )
    documents = _documents(client, headers, case)
    notice, hearing = documents["penalty_notice"], documents["hearing_notice"]
    text_ = _text(client, headers, notice)
    for field in (
        "行政处罚告知书",
        notice["number"],
        filing["number"],
        "30,000.00元",
        "第八十四条第（一）项",
        "陈述和申辩",
        "第四十四条",
        "2026年11月25日前",
        "当事人（签名）",
    ):
        assert field in text_, field
    text_ = _text(client, headers, hearing)
    for field in ("听证告知书", hearing["number"], "要求举行听证", "第六十三条", "2026年11月27日前", "30,000.00元"):
        assert field in text_, field
    early = _step(client, headers, case, "decide")
    assert early.status_code == 409 and early.get_json()["code"] == "case.notice_period_running"
    clock.advance(days=6)
    decided = _step(client, headers, case, "decide", amount=20000)
    assert decided.status_code == 200, decided.get_json()
    case = decided.get_json()
    assert case["status"] == "decided" and case["deadlines"]["payment"].startswith("2026-12-13")
    decision = _documents(client, headers, case)["penalty_decision"]
    text_ = _text(client, headers, decision)
    for field in ("行政处罚决定书", "20,000.00元", "陈述、申辩和要求听证", "第八十四条第（一）项", "2026年12月13日"):
        assert field in text_, field
    assert "30,000.00元" in _text(client, headers, notice)  # issued: what was proposed stays as it was
    clock.advance(days=20)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json()["overdue"] == ["payment"]
    stale = _step(client, headers, {**case, "version": 1}, "execute")
    assert stale.status_code == 409 and stale.get_json()["code"] == "case.stale_version"
    case = _step(client, headers, case, "execute", note="当事人已于2026年12月10日缴纳罚款").get_json()
    case = _step(client, headers, case, "close").get_json()
    assert case["status"] == "closed" and [e["action"] for e in case["events"]] == [
        "file",
        "investigate",
        "notify",
        "decide",
        "execute",
        "close",
    ]
    assert _step(client, headers, case, "close").status_code == 409
    documents = _documents(client, headers, case)
    assert set(documents) == {
        "case_filing_approval",
        "penalty_notice",
        "hearing_notice",
        "penalty_decision",
        "case_closing_approval",
    }
    text_ = _text(client, headers, documents["case_closing_approval"])
    for field in (
        "结案审批表",
        filing["number"],
        decision["number"],
        "当事人已于2026年12月10日缴纳罚款",
        "建议结案",
        "20,000.00元",
    ):
        assert field in text_, field
    # A correction names the one it replaces; the case number printed stays the first 立案审批表's.
    corrected = issue(
        "desk", "cases", case["id"], "case_closing_approval", replaces=documents["case_closing_approval"]["id"]
    )
    assert corrected.status_code == 201, corrected.get_json()
    assert "更正并替代" in _text(client, headers, corrected.get_json())


def test_a_notice_without_a_hearing_issues_no_hearing_notice(client, login, demo, clock, issue):
    headers = login("inspector1")
    case = client.post("/api/v1/cases", headers=headers, json=_case(demo)).get_json()
    case = _step(client, headers, case, "investigate").get_json()
    case = _step(
        client, headers, case, "notify", penalty_basis="《安全生产违法行为行政处罚办法》第四十五条", penalty="警告"
    ).get_json()
    documents = _documents(client, headers, case)
    assert set(documents) == {"case_filing_approval", "penalty_notice"}
    assert "听证告知书" not in _text(client, headers, documents["penalty_notice"])
    assert issue("inspector1", "cases", case["id"], "hearing_notice").get_json()["code"] == "document.not_applicable"


def test_cases_are_scoped_and_need_two_certified_officers(client, login, demo):
    headers = login("inspector1")
    alone = client.post("/api/v1/cases", headers=headers, json=_case(demo, officers=[str(demo.users["inspector1"].id)]))
    assert alone.status_code == 422 and alone.get_json()["errors"][0]["code"] == "case.two_officers"
    with_desk = client.post(
        "/api/v1/cases",
        headers=headers,
        json=_case(demo, officers=[str(demo.users["inspector1"].id), str(demo.users["desk"].id)]),
    )
    assert with_desk.get_json()["errors"][0] == {
        "code": "case.officer_not_certified",
        "field": "officers.1",
        "message": "须为持有效执法证的执法人员",
    }
    case = client.post("/api/v1/cases", headers=headers, json=_case(demo)).get_json()
    assert client.get(f"/api/v1/cases/{case['id']}", headers=login("enterprise1")).status_code == 200
    assert client.get(f"/api/v1/cases/{case['id']}", headers=login("gridworker3")).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}/documents", headers=login("gridworker3")).status_code == 404
    filing = _documents(client, headers, case)["case_filing_approval"]
    assert client.get(filing["pdf"], headers=login("gridworker3")).status_code == 404
    assert client.get(f"/api/v1/documents/{filing['id']}", headers=login("gridworker3")).status_code == 404
    assert client.get(filing["pdf"], headers=login("enterprise1")).status_code == 200
    assert client.post("/api/v1/cases", headers=login("enterprise1"), json=_case(demo)).status_code == 403
    assert client.get("/api/v1/cases", headers=login("gridworker3")).get_json()["total"] == 0
    assert client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=headers).status_code == 404


def test_decided_cases_and_their_fines_count_in_the_monthly_figures(client, login, demo):
    headers = login("inspector1")
    for amount in (2000, 500):
        made = client.post(
            "/api/v1/cases",
            headers=headers,
            json=_case(
                demo,
                procedure="simple",
                penalty_basis="《安全生产违法行为行政处罚办法》第四十五条",
                penalty="罚款",
                amount=amount,
            ),
        )
        assert made.status_code == 201
    client.post("/api/v1/cases", headers=headers, json=_case(demo))  # filed, not decided: not counted
    district = client.get("/api/v1/stats/monthly", headers=login("desk"), query_string={"month": "2026-11"}).get_json()
    assert (district["figures"]["penalty_cases"], district["figures"]["penalty_amount"]) == (2, "2500.00")
    town = next(c for c in district["children"] if c["region"]["code"] == demo.towns[0].code)
    assert town["figures"]["penalty_cases"] == 2


def test_the_ledger_shows_the_case_a_hazard_led_to(client, login, demo, raise_hazards):
    import io

    from openpyxl import load_workbook

    from reports.ledger import HEADERS

    general, major = raise_hazards()
    headers = login("desk")
    case = client.post("/api/v1/cases", headers=login("inspector1"), json=_case(demo, hazard_ids=[major])).get_json()
    number = _documents(client, headers, case)["case_filing_approval"]["number"]
    case = _step(client, login("inspector1"), case, "investigate").get_json()
    listed = {h["id"]: h for h in client.get("/api/v1/hazards", headers=headers).get_json()["items"]}
    assert listed[general]["penalty_case"] is None
    assert listed[major]["penalty_case"] == {
        "id": case["id"],
        "number": number,
        "status": "investigating",
        "procedure": "general",
        "amount": "0.00",
    }
    assert client.get(f"/api/v1/hazards/{major}", headers=headers).get_json()["penalty_case"]["number"] == number
    by_hazard = client.get("/api/v1/cases", headers=headers, query_string={"hazard_id": major}).get_json()
    assert [c["id"] for c in by_hazard["items"]] == [case["id"]]
    assert client.get("/api/v1/cases", headers=headers, query_string={"hazard_id": general}).get_json()["total"] == 0

    export = client.get("/api/v1/hazards/export.xlsx", headers=headers)
    assert export.status_code == 200
    rows = [
        dict(zip(HEADERS, row))
        for row in load_workbook(io.BytesIO(export.data))["隐患台账"].iter_rows(min_row=2, values_only=True)
    ]
    by_id = {row["隐患编号"]: row for row in rows}
    assert (by_id[major]["行政处罚案件"], by_id[major]["案件状态"], by_id[major]["罚款金额（元）"]) == (
        number,
        "调查取证",
        0,
    )
    assert by_id[general]["行政处罚案件"] is None
