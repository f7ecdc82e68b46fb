"""Issuing enforcement documents (执法文书) from the records, and reading them back.

A document is issued for one record — an inspection, a hazard or a penalty case — by an inspector or a
desk officer who may see it. Its number (e.g. （安巡示范）应急检记〔2026〕12号) is the next serial of the
issuing office, kind and year, taken in the document's own transaction: the counter row stays locked
until that transaction ends, so two issuers never get the same number and a rolled-back issue gives its
number back (no gaps). What the document says is kept as ``content`` beside the PDF and its SHA-256;
neither ever changes (a trigger refuses it), and a correction is a new document naming the one it replaces.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, or_, select, text
from sqlalchemy.orm import Session

from accounts.people import people_refs
from accounts.principal import Principal
from audit.service import record
from cases.models import Case, CaseEvent
from cases.service import amount_text, case_filter, open_case, transition_case
from checklists.service import template_for_inspection
from core.clock import SHANGHAI, Clock
from core.errors import Conflict, FieldError, NotFound, ValidationFailed
from documents.models import Document
from documents.render import render_pdf
from documents.signatures import signatures_for
from enterprises.models import Enterprise
from geo.models import Region
from inspections.hazards import hazard_filter
from inspections.models import ENFORCEMENT_KINDS, Hazard, HazardEvent, Inspection
from inspections.service import inspection_filter


@dataclass(frozen=True)
class Kind:
    title: str
    abbreviation: str  # the kind's part of the number: 应急检记〔2026〕12号
    record: str  # inspection | hazard | case
    # Issued by a step of its case, once: a second one only as a correction naming the first.
    case_step: str | None = None


KINDS = {
    "site_inspection_record": Kind("现场检查记录", "检记", "inspection"),
    "rectification_order": Kind("责令限期整改指令书", "责改", "hazard"),
    "recheck_opinion": Kind("整改复查意见书", "复查", "hazard"),
    "on_site_measures": Kind("现场处理措施决定书", "现决", "hazard"),
    "supervision_notice": Kind("挂牌督办通知书", "督办", "hazard"),
    "case_filing_approval": Kind("立案审批表", "立", "case", "file"),
    "penalty_notice": Kind("行政处罚告知书", "告", "case", "notify"),
    "hearing_notice": Kind("听证告知书", "听告", "case", "notify"),
    "penalty_decision": Kind("行政处罚决定书", "罚", "case", "decide"),
    "case_closing_approval": Kind("结案审批表", "结", "case", "close"),
}


@dataclass(frozen=True)
class Issuer:
    """What issuing needs beyond the records: where the QR code points, a county's own templates, the
    photo store holding captured signatures."""

    public_base_url: str
    template_dir: str | None = None
    store: object = None

    @classmethod
    def of(cls, settings, store) -> "Issuer":
        return cls(settings.public_base_url, settings.document_templates or None, store)


RECORDS = {"inspection": Inspection, "hazard": Hazard, "case": Case}
INSPECTION_KINDS_ZH = {
    "routine": "日常检查",
    "special": "专项检查",
    "random": "双随机抽查",
    "unannounced": "四不两直暗查",
    "recheck": "复查",
}
# 《安全生产法》第六十五条第一款第（三）项: 现场处理措施 against a major hazard.
MEASURES_BASIS = "《中华人民共和国安全生产法》第六十五条第一款第（三）项"
FIVE = (
    ("responsibility", "整改责任"),
    ("measures", "整改措施"),
    ("funds", "整改资金"),
    ("deadline", "整改时限"),
    ("contingency_plan", "应急预案"),
)


class DocumentNotApplicable(Conflict):
    code = "document.not_applicable"
    title = "该记录当前不能出具此文书"


class AlreadyIssued(Conflict):
    code = "document.already_issued"
    title = "该文书已出具，更正须以 replaces 指明被更正的文书"


class AlreadyReplaced(Conflict):
    code = "document.already_replaced"
    title = "被更正的文书已有更正文书"


def record_filter(principal: Principal, record_kind: str):
    return {
        "inspection": lambda: inspection_filter(principal),
        "hazard": lambda: hazard_filter(principal),
        "case": lambda: case_filter(principal),
    }[record_kind]()


def document_filter(principal: Principal):
    """A document is visible exactly when the record it was issued for is."""
    return or_(
        *(
            exists().where(model.id == getattr(Document, f"{name}_id"), record_filter(principal, name))
            for name, model in RECORDS.items()
        )
    )


def _visible_record(session: Session, principal: Principal, record_kind: str, record_id: uuid.UUID):
    model = RECORDS[record_kind]
    found = session.scalar(select(model).where(model.id == record_id, record_filter(principal, record_kind)))
    if found is None:
        raise NotFound({"inspection": "检查记录不存在", "hazard": "隐患不存在", "case": "案件不存在"}[record_kind])
    return found


# --------------------------------------------------------------------------- the issuing office


def _office(session: Session, principal: Principal) -> dict:
    """The issuing office is the caller's region: 应急管理局 of a county, 人民政府 of a town; the county
    (the district node on the caller's path) hears reviews and suits."""
    region = session.get(Region, principal.region_id)
    county = (
        session.scalar(select(Region).where(Region.level == "district", Region.path.ancestor_of(region.path)).limit(1))
        or region
    )
    if region.level == "town":
        name, short = f"{region.name}人民政府", _short(region.name, ("街道", "镇", "乡"))
    else:
        name, short = f"{county.name}应急管理局", _short(county.name, ("自治县", "县", "区", "市"))
    return {
        "id": region.id,
        "name": name,
        "short": short,
        "review_body": f"{county.name}人民政府或者上一级应急管理部门",
        "court": f"{county.name}人民法院",
    }


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _next_serial(session: Session, office_id: uuid.UUID, kind: str, year: int) -> int:
    """The next number of the office's kind in the year; the row stays locked until the transaction ends."""
    return session.execute(
        text(
            "INSERT INTO document_counters (office_id, kind, year, last) VALUES (:office, :kind, :year, 1) "
            "ON CONFLICT (office_id, kind, year) DO UPDATE SET last = document_counters.last + 1 RETURNING last"
        ),
        {"office": office_id, "kind": kind, "year": year},
    ).scalar_one()


# --------------------------------------------------------------------------- what each kind says


def _date(at: datetime | None) -> str:
    if at is None:
        return "　　年　　月　　日"
    local = at.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def _period(start: datetime, end: datetime | None) -> str:
    s = start.astimezone(SHANGHAI)
    text_ = f"{_date(start)} {s.hour:02d}时{s.minute:02d}分"
    if end is not None:
        e = end.astimezone(SHANGHAI)
        text_ += f"至{'' if e.date() == s.date() else _date(end) + ' '}{e.hour:02d}时{e.minute:02d}分"
    return text_


def _enterprise(enterprise: Enterprise) -> dict:
    return {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "address": enterprise.address,
        "legal_representative": enterprise.legal_representative,
    }


def _officers(session: Session, ids) -> list[dict]:
    known = people_refs(session, ids)
    return [
        {"name": known[str(i)]["name"], "cert_no": known[str(i)]["enforcement_cert_no"]}
        for i in dict.fromkeys(ids)
        if str(i) in known
    ]


def _finding(template, item_code: str | None, reason: str | None, fallback: str, major: bool) -> dict:
    item = template.item(item_code) if template is not None and item_code else None
    if item is None:
        return {"text": fallback, "reason": None, "basis": None, "major": major}
    return {
        "text": item.text,
        "reason": reason if reason and reason != item.text else None,
        "basis": basis_text(item.basis),
        "major": item.major,
    }


def basis_text(basis) -> str:
    """《title》clause, whether the checklist wrote the title with its book-title marks or without."""
    return f"《{basis.title.strip('《》')}》{basis.clause}"


def _template_of(session: Session, inspection: Inspection | None):
    if inspection is None:
        return None
    return template_for_inspection(session, inspection.checklist_code, inspection.checklist_version)


def _site_inspection_record(session: Session, inspection: Inspection) -> dict:
    if inspection.kind not in ENFORCEMENT_KINDS:
        raise DocumentNotApplicable("现场检查记录只为执法检查出具（企业自查、网格员巡查不出具）")
    template = _template_of(session, inspection)
    outcomes = inspection.outcomes
    failed = [
        _finding(template, o["item"], o.get("reason"), o["item"], False) for o in outcomes if o["outcome"] == "fail"
    ]
    return {
        "place": session.get(Enterprise, inspection.enterprise_id).address,
        "period": _period(inspection.started_at, inspection.finished_at),
        "inspection_kind": INSPECTION_KINDS_ZH[inspection.kind],
        "checklist": f"{template.title}（第 {template.version} 版）",
        "checked": sum(1 for o in outcomes if o["outcome"] in ("pass", "fail")),
        "passed": sum(1 for o in outcomes if o["outcome"] == "pass"),
        "not_applicable": sum(1 for o in outcomes if o["outcome"] == "na"),
        "failed": failed,
        "remarks": inspection.remarks,
        "inspector_ids": inspection.inspector_ids,
    }


def _hazard_finding(session: Session, hazard: Hazard) -> tuple[dict, Inspection | None]:
    inspection = session.get(Inspection, hazard.inspection_id) if hazard.inspection_id else None
    template = _template_of(session, inspection)
    reason = next(
        (o.get("reason") for o in (inspection.outcomes if inspection else ()) if o["item"] == hazard.item_code), None
    )
    return _finding(
        template, hazard.item_code, reason or hazard.description, hazard.description, hazard.level == "major"
    ), inspection


def _events(session: Session, hazard: Hazard, *actions: str) -> list[HazardEvent]:
    return list(
        session.scalars(
            select(HazardEvent)
            .where(HazardEvent.hazard_id == hazard.id, HazardEvent.action.in_(actions))
            .order_by(HazardEvent.version, HazardEvent.id)
        )
    )


def _hazard_content(session: Session, kind: str, hazard: Hazard, data: dict, principal: Principal) -> dict:
    finding, inspection = _hazard_finding(session, hazard)
    team = (
        list(inspection.inspector_ids) if inspection and inspection.kind in ENFORCEMENT_KINDS else [principal.user_id]
    )
    content = {
        "failed": [finding],
        "deadline": _date(hazard.deadline),
        "inspector_ids": team,
        "found_date": _date(hazard.found_at),
    }
    if kind == "rectification_order":
        if hazard.deadline is None or hazard.status == "reported":
            raise DocumentNotApplicable("隐患尚未责令限期整改（没有整改期限）")
        content.update(measures=hazard.measures, responsible_person=hazard.responsible_person)
    elif kind == "recheck_opinion":
        decisions = _events(session, hazard, "verify", "reject")
        if not decisions:
            raise DocumentNotApplicable("隐患尚未复查（没有复查通过或退回整改的记录）")
        decision, orders = decisions[-1], _events(session, hazard, "order")
        submissions = [e for e in _events(session, hazard, "submit") if e.version < decision.version]
        recheck_id = decision.data.get("recheck_inspection_id")
        recheck = session.get(Inspection, uuid.UUID(str(recheck_id))) if recheck_id else None
        # The latest order of the hazard: a correction is always issued after the document it replaces.
        order_number = session.scalar(
            select(Document.number)
            .where(Document.hazard_id == hazard.id, Document.kind == "rectification_order")
            .order_by(Document.issued_at.desc(), Document.serial.desc())
            .limit(1)
        )
        passed = decision.action == "verify"
        content.update(
            ordered_date=_date(orders[0].at if orders else hazard.found_at),
            order_number=order_number,
            submitted_date=_date(submissions[-1].at if submissions else None),
            recheck_date=_date(recheck.started_at if recheck else decision.at),
            passed=passed,
            conclusion="经复查，上述问题已整改完毕，符合要求，予以销号。"
            if passed
            else "经复查，上述问题未整改完毕，不符合要求。",
            note=decision.note,
            inspector_ids=list(recheck.inspector_ids) if recheck else [decision.actor_id],
        )
    elif kind == "on_site_measures":
        measures = (data.get("measures") or "").strip()
        if not measures:
            raise ValidationFailed(
                "现场处理措施决定书须写明处理措施",
                errors=[FieldError("document.measures_required", "measures", "请填写现场处理措施")],
            )
        if hazard.level != "major":
            raise DocumentNotApplicable("现场处理措施决定书针对重大事故隐患")
        content.update(measures=measures, measures_basis=data.get("basis") or MEASURES_BASIS)
    elif kind == "supervision_notice":
        if not hazard.supervised:
            raise DocumentNotApplicable("隐患未挂牌督办")
        five = hazard.five or {}
        content.update(
            supervising_office=hazard.supervising_office or "",
            five=[[label, str(five[key])] for key, label in FIVE if five.get(key)],
        )
    return content


def _case_event(session: Session, case: Case, action: str) -> CaseEvent | None:
    return session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        .order_by(CaseEvent.version.desc(), CaseEvent.id.desc())
        .limit(1)
    )


def _first_number(session: Session, case: Case, kind: str) -> str | None:
    """The number of the case's document of ``kind`` as first issued (a correction keeps the case's number)."""
    return session.scalar(
        select(Document.number)
        .where(Document.case_id == case.id, Document.kind == kind)
        .order_by(Document.issued_at, Document.serial)
        .limit(1)
    )


def _deadline_date(case: Case, key: str) -> str | None:
    return _date(datetime.fromisoformat(case.deadlines[key])) if case.deadlines.get(key) else None


def _case_source(session: Session, case: Case) -> str:
    """案件来源: the inspections (with their 现场检查记录) and hazards the case was opened from."""
    parts = []
    for inspection_id in case.inspection_ids:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None:
            continue
        number = session.scalar(
            select(Document.number)
            .where(Document.inspection_id == inspection.id, Document.kind == "site_inspection_record")
            .order_by(Document.issued_at)
            .limit(1)
        )
        parts.append(
            f"{_date(inspection.started_at)}{INSPECTION_KINDS_ZH.get(inspection.kind, '检查')}"
            + (f"（{number}）" if number else "")
        )
    if case.hazard_ids:
        parts.append(f"检查发现的事故隐患 {len(case.hazard_ids)} 项")
    return "；".join(parts) or "执法检查"


def _case_content(session: Session, kind: str, case: Case) -> dict:
    content = {
        "procedure": case.procedure,
        "facts": case.facts,
        "violated": case.violated,
        "penalty_basis": case.penalty_basis,
        "penalty": case.penalty,
        "amount_text": amount_text(case.amount) if case.amount else None,
        "case_number": case.number,
        "opened_date": _date(case.opened_at),
        "inspector_ids": case.officer_ids,
    }
    notified = _case_event(session, case, "notify")
    if kind == "case_filing_approval":
        if case.procedure != "general":
            raise DocumentNotApplicable("简易程序当场作出决定，不立案")
        content.update(source=_case_source(session, case), decision_deadline=_deadline_date(case, "decision"))
    elif kind in ("penalty_notice", "hearing_notice"):
        if notified is None:
            raise DocumentNotApplicable("案件尚未告知")
        if kind == "hearing_notice" and not notified.data.get("hearing_offered"):
            raise DocumentNotApplicable("告知时未告知听证权利（不属于听证范围）")
        # What was proposed at the notice, whatever was decided later.
        content.update(
            amount_text=amount_text(Decimal(notified.data["amount"]))
            if Decimal(notified.data.get("amount") or 0)
            else None,
            notified_date=_date(notified.at),
            statement_deadline=_deadline_date(case, "statement"),
            hearing_deadline=_deadline_date(case, "hearing_request"),
            hearing_offered=bool(notified.data.get("hearing_offered")),
        )
    elif kind == "penalty_decision":
        if case.status not in ("decided", "executed", "closed"):
            raise DocumentNotApplicable("案件尚未作出处罚决定")
        content.update(
            payment_deadline=_deadline_date(case, "payment"),
            notified_date=_date(notified.at if notified else None),
            hearing_offered=case.deadlines.get("hearing_request") is not None,
            hearing_requested=case.hearing_requested,
        )
    elif kind == "case_closing_approval":
        if case.status != "closed":
            raise DocumentNotApplicable("案件尚未结案")
        executed = _case_event(session, case, "execute")
        closed = _case_event(session, case, "close")
        content.update(
            decision_number=_first_number(session, case, "penalty_decision"),
            decided_date=_date(case.decided_at),
            executed_date=_date(executed.at if executed else None),
            execution=(executed.note if executed and executed.note else "已按处罚决定履行完毕"),
            closed_date=_date(closed.at if closed else case.closed_at),
            closing_note=closed.note if closed else "",
        )
    return content


def _title(kind: str, record) -> str:
    if kind == "penalty_decision" and record.procedure == "simple":
        return "行政处罚决定书（简易程序）"
    return KINDS[kind].title


# --------------------------------------------------------------------------- issuing


def issue_document(
    session: Session,
    clock: Clock,
    principal: Principal,
    record_kind: str,
    record_id: uuid.UUID,
    data: dict,
    *,
    issuer: Issuer,
) -> Document:
    kind = data["kind"]
    if kind not in KINDS or KINDS[kind].record != record_kind:
        allowed = [k for k, v in KINDS.items() if v.record == record_kind]
        raise ValidationFailed(
            errors=[FieldError("document.kind_unknown", "kind", f"可出具的文书：{', '.join(allowed)}")]
        )
    source = _visible_record(session, principal, record_kind, record_id)
    replaced = _replaced(session, principal, kind, record_kind, record_id, data.get("replaces"))
    if replaced is None and KINDS[kind].case_step:
        issued = session.scalar(
            select(Document.number).where(Document.case_id == source.id, Document.kind == kind).limit(1)
        )
        if issued:
            raise AlreadyIssued(f"{KINDS[kind].title} {issued} 已出具；更正须以 replaces 指明被更正的文书")
    enterprise = session.get(Enterprise, source.enterprise_id)
    if record_kind == "inspection":
        content = _site_inspection_record(session, source)
    elif record_kind == "hazard":
        content = _hazard_content(session, kind, source, data, principal)
    else:
        content = _case_content(session, kind, source)
    office = _office(session, principal)
    now = clock.now()
    year = now.astimezone(SHANGHAI).year
    document_id = uuid.uuid4()
    signed = signatures_for(session, kind, source.id)
    content.update(
        title=_title(kind, source),
        office_name=office["name"],
        office={"review_body": office["review_body"], "court": office["court"]},
        enterprise=_enterprise(enterprise),
        issued_date=_date(now),
        inspectors=_officers(session, content.pop("inspector_ids")),
        replaces=replaced.number if replaced else None,
        signatures=[
            {"role": g.role, "name": g.signer_name, "sha256": g.sha256, "signed_date": _date(g.signed_at)}
            for g in signed
        ],
    )
    images = {
        g.sha256: "data:image/png;base64," + base64.b64encode(issuer.store.read(g.sha256)).decode() for g in signed
    }
    # Last, so the counter row is locked for as short a time as the rendering takes.
    serial = _next_serial(session, office["id"], kind, year)
    content["number"] = f"（{office['short']}）应急{KINDS[kind].abbreviation}〔{year}〕{serial}号"
    pdf = render_pdf(
        kind,
        content,
        verify_url=verify_url(issuer.public_base_url, document_id),
        template_dir=issuer.template_dir,
        images=images,
    )
    document = Document(
        id=document_id,
        kind=kind,
        office_id=office["id"],
        office_name=office["name"],
        year=year,
        serial=serial,
        number=content["number"],
        enterprise_id=enterprise.id,
        enterprise_name=enterprise.name,
        replaces=replaced.id if replaced else None,
        issued_at=now,
        issued_by=principal.user_id,
        content=content,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        region_id=source.region_id,
        grid_id=source.grid_id,
        **{f"{record_kind}_id": source.id},
    )
    session.add(document)
    session.flush()
    record(
        session,
        clock,
        principal,
        "issue",
        "document",
        document.id,
        {
            "kind": kind,
            "number": document.number,
            record_kind: str(source.id),
            "replaces": str(replaced.id) if replaced else None,
        },
    )
    return document


def issue_case_step_documents(
    session: Session, clock: Clock, principal: Principal, case: Case, action: str, issuer: Issuer
) -> list[Document]:
    """The documents a step of a case issues: 立案 its 立案审批表, 告知 its 行政处罚告知书 (and the 听证告知书
    when a hearing is offered), 决定 the 行政处罚决定书 (简易程序: at once), 结案 the 结案审批表. The first
    立案审批表 (简易程序: decision) gives the case its number (案件编号)."""
    issued = []
    for kind, spec in KINDS.items():
        if spec.case_step != action:
            continue
        if kind == "hearing_notice" and case.deadlines.get("hearing_request") is None:
            continue
        document = issue_document(session, clock, principal, "case", case.id, {"kind": kind}, issuer=issuer)
        if case.number is None and kind in ("case_filing_approval", "penalty_decision"):
            case.number = document.number
        issued.append(document)
    session.flush()
    return issued


def open_case_with_documents(
    session: Session, clock: Clock, principal: Principal, data: dict, *, issuer: Issuer
) -> Case:
    """立案 with its 立案审批表, or a 简易程序 decision with its 决定书: one unit, so a case is never
    without its paper."""
    case = open_case(session, clock, principal, data)
    issue_case_step_documents(
        session, clock, principal, case, "decide" if case.procedure == "simple" else "file", issuer
    )
    return case


def transition_case_with_documents(
    session: Session, clock: Clock, principal: Principal, case_id: uuid.UUID, data: dict, *, issuer: Issuer
) -> Case:
    """A step of a case and the documents it issues, in the one transaction."""
    case = transition_case(session, clock, principal, case_id, data)
    issue_case_step_documents(session, clock, principal, case, data["action"], issuer)
    return case


def _replaced(
    session: Session,
    principal: Principal,
    kind: str,
    record_kind: str,
    record_id: uuid.UUID,
    replaces: uuid.UUID | None,
) -> Document | None:
    if replaces is None:
        return None
    old = session.scalar(select(Document).where(Document.id == replaces, document_filter(principal)))
    if old is None or old.kind != kind or getattr(old, f"{record_kind}_id") != record_id:
        raise ValidationFailed(
            errors=[FieldError("document.replaces_unknown", "replaces", "被更正的文书须是同一记录的同类文书")]
        )
    if session.scalar(select(Document.id).where(Document.replaces == old.id)):
        raise AlreadyReplaced(f"文书 {old.number} 已被更正")
    return old


def verify_url(public_base_url: str, document_id: uuid.UUID) -> str:
    return f"{public_base_url}/api/v1/public/documents/{document_id}"


# --------------------------------------------------------------------------- reading


def document_dict(document: Document, replaced_by: uuid.UUID | None = None) -> dict:
    return {
        "id": document.id,
        "kind": document.kind,
        "title": document.content["title"],
        "number": document.number,
        "office": document.office_name,
        "enterprise_id": document.enterprise_id,
        "enterprise_name": document.enterprise_name,
        "inspection_id": document.inspection_id,
        "hazard_id": document.hazard_id,
        "case_id": document.case_id,
        "replaces": document.replaces,
        "replaced_by": replaced_by,
        "issued_at": document.issued_at,
        "issued_by": document.issued_by,
        "sha256": document.sha256,
        "pdf": f"/api/v1/documents/{document.id}.pdf",
    }


def _with_replacements(session: Session, documents: list[Document]) -> list[dict]:
    ids = [d.id for d in documents]
    later = (
        dict(session.execute(select(Document.replaces, Document.id).where(Document.replaces.in_(ids))).all())
        if ids
        else {}
    )
    return [document_dict(d, later.get(d.id)) for d in documents]


def list_documents(session: Session, principal: Principal, record_kind: str, record_id: uuid.UUID) -> list[dict]:
    _visible_record(session, principal, record_kind, record_id)
    column = getattr(Document, f"{record_kind}_id")
    return _with_replacements(
        session,
        list(
            session.scalars(
                select(Document).where(column == record_id).order_by(Document.issued_at, Document.kind, Document.serial)
            )
        ),
    )


def get_document(session: Session, principal: Principal, document_id: uuid.UUID) -> Document:
    document = session.scalar(select(Document).where(Document.id == document_id, document_filter(principal)))
    if document is None:
        raise NotFound("文书不存在")
    return document


def document_view(session: Session, principal: Principal, document_id: uuid.UUID) -> dict:
    return _with_replacements(session, [get_document(session, principal, document_id)])[0]


def public_document_by_number(session: Session, number: str) -> dict:
    """The same verification for someone typing the number printed on the paper."""
    document_id = session.scalar(select(Document.id).where(Document.number == number.strip()))
    if document_id is None:
        raise NotFound("文书不存在")
    return public_document(session, document_id)


def public_document(session: Session, document_id: uuid.UUID) -> dict:
    """What the QR code shows anyone: enough to tell a genuine document from a forged or altered one —
    number, kind, issuing office, date, the enterprise (a legal person, its name and 统一社会信用代码 are
    public), the SHA-256 of the PDF and whether a correction replaced it. No person's name or 执法证号."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("文书不存在")
    replaced_by = session.scalar(select(Document.number).where(Document.replaces == document.id))
    replaces = (
        session.scalar(select(Document.number).where(Document.id == document.replaces)) if document.replaces else None
    )
    return {
        "id": document.id,
        "number": document.number,
        "title": document.content["title"],
        "office": document.office_name,
        "issued_on": document.issued_at.astimezone(SHANGHAI).date(),
        "enterprise": {"name": document.enterprise_name, "uscc": document.content["enterprise"]["uscc"]},
        "sha256": document.sha256,
        "replaces": replaces,
        "replaced_by": replaced_by,
    }
