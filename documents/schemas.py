"""Bodies of the document endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.times import RecordedTime, ShownTime
from documents.models import SIGNABLE_KINDS, SIGNER_ROLES
from documents.service import KINDS


class DocumentIn(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(tuple(KINDS)),
        metadata={"description": "文书种类：" + "，".join(f"{k} {v.title}" for k, v in KINDS.items())},
    )
    replaces = fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "更正：被替代的同一记录的同类文书"}
    )
    measures = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "现场处理措施（现场处理措施决定书必填）"},
    )
    basis = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "现场处理措施的法律依据（缺省：安全生产法第六十五条第一款第（三）项）"},
    )


class DocumentOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    number = fields.String(metadata={"description": "文号，按出具机关、文书种类、年度连续编号"})
    office = fields.String()
    enterprise_id = fields.UUID()
    enterprise_name = fields.String()
    inspection_id = fields.UUID(allow_none=True)
    hazard_id = fields.UUID(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    replaces = fields.UUID(allow_none=True)
    replaced_by = fields.UUID(allow_none=True)
    issued_at = fields.DateTime()
    issued_by = fields.UUID()
    sha256 = fields.String()
    pdf = fields.String(metadata={"description": "PDF 的路径"})


class DocumentListOut(Schema):
    items = fields.List(fields.Nested(DocumentOut))


class PublicDocumentQuery(Schema):
    number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "文书上印的文号，如（安巡示范）应急检记〔2026〕12号"},
    )


class PublicEnterpriseOut(Schema):
    name = fields.String()
    uscc = fields.String()


class PublicDocumentOut(Schema):
    id = fields.UUID()
    number = fields.String()
    title = fields.String()
    office = fields.String()
    issued_on = fields.Date()
    enterprise = fields.Nested(PublicEnterpriseOut)
    sha256 = fields.String(metadata={"description": "PDF 文件的 SHA-256，与手中文书比对"})
    replaces = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "已被更正时，更正文书的文号"})


class SignatureData(Schema):
    """A signature captured on the phone: the sync ``data`` of a ``signature`` ``create``, and the REST body."""

    document = fields.String(
        required=True,
        validate=validate.OneOf(SIGNABLE_KINDS),
        metadata={
            "description": "所签文书：site_inspection_record 现场检查记录（record_id 为检查记录）| rectification_order "
            "责令限期整改指令书 | recheck_opinion 整改复查意见书（record_id 为隐患）"
        },
    )
    record_id = fields.UUID(required=True)
    role = fields.String(
        required=True,
        validate=validate.OneOf(SIGNER_ROLES),
        metadata={"description": "party 被检查单位负责人（当事人）| officer 执法人员"},
    )
    signer_name = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "签名人姓名（party 必填）"},
    )
    signer_id = fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "签名的执法人员账号（officer 必填）"}
    )
    image = fields.String(
        required=True,
        metadata={
            "description": "签名图片：PNG 或 JPEG 的 base64，不超过 ANXUN_MAX_SIGNATURE_BYTES（512 KiB）和 "
            "ANXUN_MAX_SIGNATURE_PIXELS（400 万像素）；服务器解码后重新编码为 PNG 保存"
        },
    )
    signed_at = RecordedTime(required=True)


class SignatureCreate(SignatureData):
    id = fields.UUID(load_default=None)


class SignatureOut(Schema):
    id = fields.UUID()
    document = fields.String()
    record_id = fields.UUID()
    role = fields.String()
    signer_name = fields.String()
    signer_id = fields.UUID(allow_none=True)
    sha256 = fields.String(metadata={"description": "重新编码后的 PNG 的 SHA-256（照片证据）"})
    width = fields.Integer()
    height = fields.Integer()
    signed_at = ShownTime()
    recorded_by = fields.UUID()
    image = fields.String(metadata={"description": "图片路径（/photos/{sha256}/original）"})
