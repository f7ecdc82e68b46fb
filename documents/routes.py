"""``/inspections|hazards|cases/{id}/documents``, ``/documents/{id}[.pdf]`` and the public
``/public/documents/{id}``: thin views over documents.service."""

from __future__ import annotations

import uuid

from flask import Response, g

from api.auth import authenticated
from api.context import clock, db, services, settings
from api.inputs import Blueprint
from documents import service, signatures
from documents.schemas import (
    DocumentIn,
    DocumentListOut,
    DocumentOut,
    PublicDocumentOut,
    PublicDocumentQuery,
    SignatureCreate,
    SignatureOut,
)
from inspections.records import Provenance

blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="执法文书（PDF）")
public_documents_blp = Blueprint(
    "public_documents", __name__, url_prefix="/api/v1/public", description="公开信息（无需登录）：执法文书核验"
)
ISSUERS = ("inspector", "desk_officer", "admin")


def _list(record_kind: str, record_id: uuid.UUID) -> dict:
    return {"items": service.list_documents(db(), g.principal, record_kind, record_id)}


def _issue(record_kind: str, record_id: uuid.UUID, body: dict) -> dict:
    document = service.issue_document(
        db(),
        clock(),
        g.principal,
        record_kind,
        record_id,
        body,
        issuer=service.Issuer.of(settings(), services().photo_store),
    )
    return service.document_dict(document)


@blp.route("/signatures", methods=["POST"])
@authenticated(*signatures.RECORDERS)
@blp.arguments(SignatureCreate)
@blp.response(201, SignatureOut)
@blp.alt_response(200, description="同一编号、同一内容的重复提交：返回已有签名")
@blp.alt_response(409, description="sync.id_reused：编号已被不同内容使用")
@blp.alt_response(413, description="signature.too_large（超过 ANXUN_MAX_SIGNATURE_BYTES）、signature.too_many_pixels")
def record_signature(body):
    """采集现场签名（与同步 signature create 的 data 相同，另可带 id）：现场检查记录、责令限期整改指令书、整改复查意见书"""
    signature_id = body.pop("id") or uuid.uuid4()
    signature, created = signatures.record_signature(
        db(),
        clock(),
        g.principal,
        signature_id,
        body,
        store=services().photo_store,
        limits=signatures.SignatureLimits.of(settings()),
        provenance=Provenance(device_id=g.principal.device_id),
    )
    return signatures.signature_dict(signature), 201 if created else 200


@blp.route("/inspections/<uuid:record_id>/documents")
@authenticated
@blp.response(200, DocumentListOut)
def list_inspection_documents(record_id: uuid.UUID):
    """该检查记录出具的文书"""
    return _list("inspection", record_id)


@blp.route("/inspections/<uuid:record_id>/documents", methods=["POST"])
@authenticated(*ISSUERS)
@blp.arguments(DocumentIn)
@blp.response(201, DocumentOut)
def issue_inspection_document(body, record_id: uuid.UUID):
    """为检查记录出具文书（执法人员、内勤；文号按机关、种类、年度连续编号；出具后不可修改，更正须出具新文书）"""
    return _issue("inspection", record_id, body)


@blp.route("/hazards/<uuid:record_id>/documents")
@authenticated
@blp.response(200, DocumentListOut)
def list_hazard_documents(record_id: uuid.UUID):
    """该隐患出具的文书"""
    return _list("hazard", record_id)


@blp.route("/hazards/<uuid:record_id>/documents", methods=["POST"])
@authenticated(*ISSUERS)
@blp.arguments(DocumentIn)
@blp.response(201, DocumentOut)
def issue_hazard_document(body, record_id: uuid.UUID):
    """为隐患出具文书（执法人员、内勤；文号按机关、种类、年度连续编号；出具后不可修改，更正须出具新文书）"""
    return _issue("hazard", record_id, body)


@blp.route("/cases/<uuid:record_id>/documents")
@authenticated
@blp.response(200, DocumentListOut)
def list_case_documents(record_id: uuid.UUID):
    """该案件出具的文书"""
    return _list("case", record_id)


@blp.route("/cases/<uuid:record_id>/documents", methods=["POST"])
@authenticated(*ISSUERS)
@blp.arguments(DocumentIn)
@blp.response(201, DocumentOut)
def issue_case_document(body, record_id: uuid.UUID):
    """为案件出具文书（执法人员、内勤；文号按机关、种类、年度连续编号；出具后不可修改，更正须出具新文书）"""
    return _issue("case", record_id, body)


@blp.route("/documents/<uuid:document_id>")
@authenticated
@blp.response(200, DocumentOut)
def get_document(document_id: uuid.UUID):
    """文书信息"""
    return service.document_view(db(), g.principal, document_id)


@blp.route("/documents/<uuid:document_id>.pdf")
@authenticated
@blp.response(200, content_type="application/pdf")
def get_document_pdf(document_id: uuid.UUID):
    """文书 PDF"""
    document = service.get_document(db(), g.principal, document_id)
    return Response(
        document.pdf,
        mimetype="application/pdf",
        headers={
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Disposition": f"inline; filename={document.id}.pdf",
        },
    )


@public_documents_blp.route("/documents/<uuid:document_id>")
@public_documents_blp.doc(security=[])
@public_documents_blp.response(200, PublicDocumentOut)
def verify_document(document_id: uuid.UUID):
    """文书核验（扫描文书上的二维码）：文号、出具机关、日期、被检查单位、PDF 的 SHA-256"""
    return service.public_document(db(), document_id)


@public_documents_blp.route("/documents")
@public_documents_blp.doc(security=[])
@public_documents_blp.arguments(PublicDocumentQuery, location="query")
@public_documents_blp.response(200, PublicDocumentOut)
def verify_document_by_number(query):
    """按文号核验文书"""
    return service.public_document_by_number(db(), query["number"])
