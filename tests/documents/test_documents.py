"""Enforcement documents: what each kind says (read back with pdftotext), numbers without gaps, scope,
immutability, the public verification behind the QR code."""

import hashlib
import re
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from documents.service import basis_text
from tests.documents.conftest import FIVE, PHOTO, _order, _transition, pdf_text


def _pdf(client, login, document, username="inspector1"):
    response = client.get(document["pdf"], headers=login(username))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def _flat(pdf: bytes) -> str:
    """The text without the spaces and line breaks layout puts between characters."""
    return re.sub(r"\s+", "", pdf_text(pdf))


def test_site_inspection_record_names_the_enterprise_the_inspectors_and_each_failure_with_its_basis(
    client, login, demo, session, inspection_body, first_items, template_of, issue
):
    general, major = first_items
    body = inspection_body(fail=[general, major])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    response = issue("inspector1", "inspections", body["id"], "site_inspection_record")
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    assert re.fullmatch(r"（安巡示范）应急检记〔2026〕\d+号", document["number"])
    text_ = _flat(_pdf(client, login, document))
    retailer, template = demo.retailer, template_of(demo.retailer)
    for field in (
        "安巡示范县应急管理局",
        "现场检查记录",
        document["number"],
        retailer.name,
        retailer.uscc,
        retailer.address,
        retailer.legal_representative,
        "法定代表人（负责人）",
        "检查人员（签名）",
        "被检查单位现场负责人（签名）",
        "2026年11月22日09时30分至10时15分",
    ):
        assert field in text_, field
    for name in ("inspector1", "inspector2"):
        user = demo.users[name]
        assert user.name in text_ and user.enforcement_cert_no in text_
    for code in (general, major):
        item = template.item(code)
        assert re.sub(r"\s+", "", item.text)[:20] in text_
        assert re.sub(r"\s+", "", basis_text(item.basis))[:30] in text_
    assert "重大事故隐患" in text_


def test_hazard_documents_order_recheck_measures_supervision(
    client, login, clock, demo, raise_hazards, issue, inspection_body, first_items
):
    general, major = raise_hazards()
    inspector = login("inspector1")
    assert _order(client, inspector, clock, major, five=FIVE).status_code == 200
    order = issue("inspector1", "hazards", major, "rectification_order").get_json()
    text_ = _flat(_pdf(client, login, order))
    for field in (
        "责令限期整改指令书",
        order["number"],
        demo.retailer.name,
        "2026年11月29日",
        "立即整改",
        "申请行政复议",
        "安巡示范县人民法院",
        "被检查单位负责人（签名）",
    ):
        assert field in text_, field

    measures = issue(
        "inspector1", "hazards", major, "on_site_measures", measures="责令从危险区域内撤出作业人员，暂时停产停业"
    )
    assert measures.status_code == 201, measures.get_json()
    text_ = _flat(_pdf(client, login, measures.get_json()))
    assert "现场处理措施决定书" in text_ and "撤出作业人员" in text_ and "第六十五条" in text_
    assert issue("inspector1", "hazards", major, "on_site_measures").status_code == 422  # no measures named

    assert issue("desk", "hazards", major, "supervision_notice").get_json()["code"] == "document.not_applicable"
    supervised = _transition(
        client, login("desk"), major, 2, action="supervise", office="安巡示范县安全生产委员会办公室"
    )
    assert supervised.status_code == 200, supervised.get_json()
    notice = issue("desk", "hazards", major, "supervision_notice").get_json()
    text_ = _flat(_pdf(client, login, notice))
    assert (
        "挂牌督办通知书" in text_
        and "安巡示范县安全生产委员会办公室" in text_
        and FIVE["funds"].replace(" ", "") in text_
    )

    assert issue("inspector1", "hazards", major, "recheck_opinion").get_json()["code"] == "document.not_applicable"
    _transition(client, login("enterprise1"), major, 3, action="submit", photos=[PHOTO], note="已整改")
    recheck = inspection_body(kind="recheck", started_at="2026-11-22T14:00:00+08:00", finished_at=None)
    assert client.post("/api/v1/inspections", headers=login("inspector2"), json=recheck).status_code == 201
    closed = _transition(client, inspector, major, 4, action="verify", recheck_inspection_id=recheck["id"])
    assert closed.status_code == 200, closed.get_json()
    opinion = issue("inspector1", "hazards", major, "recheck_opinion").get_json()
    text_ = _flat(_pdf(client, login, opinion))
    for field in ("整改复查意见书", order["number"], "已整改完毕", "予以销号", demo.users["inspector2"].name):
        assert field in text_, field

    listed = client.get(f"/api/v1/hazards/{major}/documents", headers=login("enterprise1")).get_json()["items"]
    assert sorted(d["kind"] for d in listed) == [
        "on_site_measures",
        "recheck_opinion",
        "rectification_order",
        "supervision_notice",
    ]


def test_numbers_follow_each_other_per_office_kind_and_year(client, login, raise_hazards, clock, issue):
    general, major = raise_hazards()
    for hazard in (general, major):
        assert _order(client, login("inspector1"), clock, hazard, five=FIVE).status_code == 200
    numbers = [
        issue("inspector1", "hazards", h, "rectification_order").get_json()["number"] for h in (general, major, general)
    ]
    serials = [int(re.search(r"〕(\d+)号", n).group(1)) for n in numbers]
    assert serials == [serials[0], serials[0] + 1, serials[0] + 2]
    clock.advance(days=40)  # 2027 in Shanghai: a new year starts at 1
    assert issue("inspector1", "hazards", major, "rectification_order").get_json()["number"].endswith("〔2027〕1号")


def test_a_document_outside_the_callers_scope_is_404_and_only_officers_issue(
    client, login, raise_hazards, clock, issue
):
    general, _ = raise_hazards()
    _order(client, login("inspector1"), clock, general)
    document = issue("inspector1", "hazards", general, "rectification_order").get_json()
    for username in ("gridworker3",):  # another town's grid
        headers = login(username)
        assert client.get(document["pdf"], headers=headers).status_code == 404
        assert client.get(f"/api/v1/documents/{document['id']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/hazards/{general}/documents", headers=headers).status_code == 404
    for username in ("gridworker1", "enterprise1"):  # in scope: they read it
        assert client.get(document["pdf"], headers=login(username)).status_code == 200
    assert issue("enterprise1", "hazards", general, "rectification_order").status_code == 403
    assert issue("gridworker1", "hazards", general, "rectification_order").status_code == 403
    assert client.get(f"/api/v1/documents/{uuid.uuid4()}.pdf", headers=login("admin")).status_code == 404


def test_an_issued_document_never_changes_and_a_correction_names_it(
    client, login, raise_hazards, clock, issue, session
):
    general, _ = raise_hazards()
    _order(client, login("inspector1"), clock, general)
    first = issue("inspector1", "hazards", general, "rectification_order").get_json()
    with pytest.raises(DBAPIError, match="immutable"):
        with session.begin_nested():
            session.execute(text("UPDATE documents SET number = 'x' WHERE id = :id"), {"id": first["id"]})
    with pytest.raises(DBAPIError, match="immutable"):
        with session.begin_nested():
            session.execute(text("DELETE FROM documents WHERE id = :id"), {"id": first["id"]})
    correction = issue("inspector1", "hazards", general, "rectification_order", replaces=first["id"])
    assert correction.status_code == 201, correction.get_json()
    assert correction.get_json()["replaces"] == first["id"]
    assert "更正并替代" in _flat(_pdf(client, login, correction.get_json()))
    again = issue("inspector1", "hazards", general, "rectification_order", replaces=first["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "document.already_replaced"
    public = client.get(f"/api/v1/public/documents/{first['id']}").get_json()
    assert public["replaced_by"] == correction.get_json()["number"]


def test_the_public_verification_gives_number_enterprise_date_and_the_pdfs_hash_and_nobodys_name(
    client, login, raise_hazards, clock, issue, demo
):
    general, _ = raise_hazards()
    _order(client, login("inspector1"), clock, general)
    document = issue("inspector1", "hazards", general, "rectification_order").get_json()
    pdf = _pdf(client, login, document)
    public = client.get(f"/api/v1/public/documents/{document['id']}")  # no login
    assert public.status_code == 200
    body = public.get_json()
    assert body["sha256"] == hashlib.sha256(pdf).hexdigest() == document["sha256"]
    assert body["number"] == document["number"] and body["issued_on"] == "2026-11-22"
    assert body["enterprise"] == {"name": demo.retailer.name, "uscc": demo.retailer.uscc}
    flat = str(body)
    for name in ("inspector1", "inspector2"):
        assert demo.users[name].name not in flat and demo.users[name].enforcement_cert_no not in flat
    assert client.get(f"/api/v1/public/documents/{uuid.uuid4()}").status_code == 404
    by_number = client.get("/api/v1/public/documents", query_string={"number": document["number"]})
    assert by_number.status_code == 200 and by_number.get_json() == body
    assert (
        client.get("/api/v1/public/documents", query_string={"number": "（安巡示范）应急责改〔2026〕999号"}).status_code
        == 404
    )


def test_a_countys_own_template_folder_is_read_first(settings, session_factory, clock, tmp_path, raise_hazards):
    from api.app import create_app

    (tmp_path / "rectification_order.html").write_text(
        '{% extends "base.html" %}{% block body %}<p>本县自定样式：{{ doc.enterprise.name }}</p>{% endblock %}',
        encoding="utf-8",
    )
    app = create_app(settings.replace(document_templates=str(tmp_path)), session_factory=session_factory, clock=clock)
    county = app.test_client()

    def login(username):
        response = county.post(
            "/api/v1/auth/login",
            json={"username": username, "password": "anxun-demo", "device": {"id": f"t-{uuid.uuid4().hex[:8]}"}},
        )
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    general, _ = raise_hazards()
    _order(county, login("inspector1"), clock, general)
    document = county.post(
        f"/api/v1/hazards/{general}/documents", headers=login("inspector1"), json={"kind": "rectification_order"}
    ).get_json()
    text_ = _flat(county.get(document["pdf"], headers=login("inspector1")).data)
    assert "本县自定样式" in text_ and document["number"] in text_  # base.html still the built-in one
