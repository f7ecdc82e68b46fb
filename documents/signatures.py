"""Signatures captured on the phone (现场签名) for the documents a party signs on site: the 现场检查记录,
the 责令限期整改指令书 and the 整改复查意见书.

A signature comes with the record it signs — in a sync push (entity ``signature``, op ``create``) or by
``POST /signatures`` — as a base64 PNG or JPEG. It is judged by decoding it whole within its own limits
(``max_signature_bytes``, ``max_signature_pixels`` read from the header before decoding) and written
again as a grey PNG (evidence.imaging.reencode_signature); that PNG is stored as a photo (the photo
store, a ``photos`` row, named by the signature, so the orphan sweep keeps it and whoever may see the
record may see it) and its SHA-256 is what the signature and the document keep. A bad image refuses the
signature alone (``signature.not_an_image`` 422, ``signature.too_large`` / ``signature.too_many_pixels``
413); in a push the rest of the batch is applied as ever. Append-only like every record a phone
creates: the same id again is a duplicate, other content under it ``sync.id_reused``. A document prints,
per signer, the latest signature recorded for its kind and record before it is issued."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.people import certified_inspector
from accounts.principal import Principal
from audit.service import record
from core.clock import SHANGHAI, Clock
from core.errors import FieldError, Forbidden, NotFound, TooLarge, UnknownReference, ValidationFailed
from core.serialize import jsonable
from documents.models import Signature
from evidence.access import PhotoOwner
from evidence.imaging import NotAnImage, TooManyPixels, reencode_signature
from evidence.service import _staging_file, name_photos, store_photo
from inspections.hazards import hazard_filter
from inspections.models import ENFORCEMENT_KINDS, Hazard, Inspection
from inspections.records import Provenance, canonical_hash, check_not_reused
from inspections.service import inspection_filter

RECORDERS = ("inspector", "desk_officer", "admin")
RECORD_OF_KIND = {"site_inspection_record": "inspection", "rectification_order": "hazard", "recheck_opinion": "hazard"}


class SignatureTooLarge(TooLarge):
    code = "signature.too_large"
    title = "签名图片过大"


class SignatureTooManyPixels(TooLarge):
    code = "signature.too_many_pixels"
    title = "签名图片像素过多"


class SignatureNotAnImage(ValidationFailed):
    code = "signature.not_an_image"
    title = "签名须为 PNG 或 JPEG 图片"


@dataclass(frozen=True)
class SignatureLimits:
    max_bytes: int
    max_pixels: int
    max_decode_bytes: int

    @classmethod
    def of(cls, settings) -> "SignatureLimits":
        return cls(settings.max_signature_bytes, settings.max_signature_pixels, settings.max_decode_bytes)


def signature_filter(principal: Principal, signature=Signature):
    """A signature is visible exactly when the record it signs is."""
    return or_(
        exists().where(Inspection.id == signature.inspection_id, inspection_filter(principal)),
        exists().where(Hazard.id == signature.hazard_id, hazard_filter(principal)),
    )


# A signature's image is seen by whoever sees the record it signs; no place or time to check it against.
PHOTO_OWNERS = (
    PhotoOwner(
        "signature",
        lambda principal: select(Signature.id).where(signature_filter(principal)),
        lambda session, signature_id: None,
    ),
)


def _image(encoded: str, limits: SignatureLimits):
    """The decoded, re-encoded image, or the refusal naming the field ``image``."""

    def refuse(error_class, message: str, **extra):
        raise error_class(message, errors=[FieldError(error_class.code, "image", message)], extra=extra)

    if len(encoded) > (limits.max_bytes + 2) // 3 * 4 + 4:
        refuse(SignatureTooLarge, f"签名图片不得超过 {limits.max_bytes // 1024} KiB", max_bytes=limits.max_bytes)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        refuse(SignatureNotAnImage, "签名图片须为 base64 编码的 PNG 或 JPEG")
    if len(data) > limits.max_bytes:
        refuse(SignatureTooLarge, f"签名图片不得超过 {limits.max_bytes // 1024} KiB", max_bytes=limits.max_bytes)
    try:
        return reencode_signature(data, max_pixels=limits.max_pixels, max_decode_bytes=limits.max_decode_bytes)
    except TooManyPixels as err:
        refuse(
            SignatureTooManyPixels,
            f"签名图片像素过多（上限 {limits.max_pixels} 像素）：{err.detail}",
            max_pixels=limits.max_pixels,
        )
    except NotAnImage:
        refuse(SignatureNotAnImage, "签名须为完整的 PNG 或 JPEG 图片")


def _signed_record(session: Session, principal: Principal, kind: str, record_id: uuid.UUID):
    """The inspection or hazard signed: not here yet → retryable (it may come later in the push or from
    another phone); here but not the caller's to see → 404, its existence not revealed."""
    model, visible = (
        (Inspection, inspection_filter(principal))
        if RECORD_OF_KIND[kind] == "inspection"
        else (Hazard, hazard_filter(principal))
    )
    found = session.scalar(select(model).where(model.id == record_id, visible))
    if found is not None:
        return found
    if session.get(model, record_id) is None:
        raise UnknownReference(
            f"记录 {record_id} 尚未到达服务器",
            errors=[FieldError("sync.unknown_reference", "record_id", "所签文书的记录尚未同步")],
        )
    raise NotFound(
        "记录不存在",
        code="scope.not_visible",
        errors=[FieldError("scope.not_visible", "record_id", "记录不存在或不在您的辖区内")],
    )


def _signer(session: Session, clock: Clock, data: dict, signed) -> tuple[str, uuid.UUID | None]:
    """Who signs: the party by name; an officer by account — a certified inspector, and for a 现场检查记录
    one of the inspection's inspectors."""
    if data["role"] == "party":
        name = (data.get("signer_name") or "").strip()
        if not name:
            raise ValidationFailed(errors=[FieldError("validation", "signer_name", "请填写签名人姓名")])
        return name, None
    signer_id = data.get("signer_id")
    if signer_id is None:
        raise ValidationFailed(errors=[FieldError("validation", "signer_id", "执法人员签名须指明执法人员账号")])
    user = session.scalar(
        select(User).where(User.id == signer_id, certified_inspector(clock.now().astimezone(SHANGHAI).date()))
    )
    if user is None or (isinstance(signed, Inspection) and signer_id not in signed.inspector_ids):
        raise ValidationFailed(
            errors=[FieldError("signature.not_an_officer", "signer_id", "签名人须为该记录持有效执法证的执法人员")]
        )
    return user.name, user.id


def record_signature(
    session: Session,
    clock: Clock,
    principal: Principal,
    signature_id: uuid.UUID,
    data: dict,
    *,
    store,
    limits: SignatureLimits,
    provenance: Provenance = Provenance(),
) -> tuple[Signature, bool]:
    """Store a signature for a document of a record; (signature, created). The image is judged last
    but one, before anything is written: a refused image leaves nothing behind."""
    digest = canonical_hash(jsonable(data))
    existing = session.get(Signature, signature_id)
    if existing is not None:
        check_not_reused(existing, digest, "签名", author=existing.recorded_by, caller=principal.user_id)
        return existing, False
    if not principal.has(*RECORDERS):
        raise Forbidden("只有执法人员、内勤可以采集签名", code="signature.role_not_allowed")
    kind = data["document"]
    signed = _signed_record(session, principal, kind, data["record_id"])
    if isinstance(signed, Inspection) and signed.kind not in ENFORCEMENT_KINDS:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "signature.not_signable", "record_id", "现场检查记录只为执法检查出具，企业自查、网格员巡查无需签名"
                )
            ]
        )
    name, signer_id = _signer(session, clock, data, signed)
    image = _image(data["image"], limits)
    sha = hashlib.sha256(image.png).hexdigest()
    staged = _staging_file(store, sha)
    staged.write_bytes(image.png)
    store_photo(
        session,
        clock,
        principal,
        store,
        sha,
        staged,
        max_pixels=limits.max_pixels,
        max_decode_bytes=limits.max_decode_bytes,
        digest=sha,
    )
    signature = Signature(
        id=signature_id,
        document_kind=kind,
        role=data["role"],
        signer_name=name,
        signer_id=signer_id,
        sha256=sha,
        width=image.width,
        height=image.height,
        signed_at=data["signed_at"],
        recorded_by=principal.user_id,
        device_id=provenance.device_id,
        recorded_at=provenance.recorded_at,
        received_at=clock.now(),
        content_hash=digest,
        region_id=signed.region_id,
        grid_id=signed.grid_id,
        **{f"{RECORD_OF_KIND[kind]}_id": signed.id},
    )
    session.add(signature)
    session.flush()
    name_photos(session, clock, principal, "signature", signature.id, [sha])
    record(
        session,
        clock,
        principal,
        "create",
        "signature",
        signature.id,
        {"document": kind, RECORD_OF_KIND[kind]: str(signed.id), "role": signature.role, "sha256": sha},
    )
    return signature, True


def signature_dict(signature: Signature) -> dict:
    return {
        "id": signature.id,
        "document": signature.document_kind,
        "record_id": signature.inspection_id or signature.hazard_id,
        "role": signature.role,
        "signer_name": signature.signer_name,
        "signer_id": signature.signer_id,
        "sha256": signature.sha256,
        "width": signature.width,
        "height": signature.height,
        "signed_at": signature.signed_at,
        "recorded_by": signature.recorded_by,
        "image": f"/api/v1/photos/{signature.sha256}/original",
    }


def signatures_for(session: Session, kind: str, record_id: uuid.UUID) -> list[Signature]:
    """What a document of ``kind`` for the record prints: the latest signature of each signer (the
    party by name, officers by account), the party's first."""
    column = Signature.inspection_id if RECORD_OF_KIND.get(kind) == "inspection" else Signature.hazard_id
    if kind not in RECORD_OF_KIND:
        return []
    latest: dict[tuple, Signature] = {}
    for signature in session.scalars(
        select(Signature)
        .where(column == record_id, Signature.document_kind == kind)
        .order_by(Signature.signed_at, Signature.received_at)
    ):
        latest[(signature.role, signature.signer_id or signature.signer_name)] = signature
    return sorted(latest.values(), key=lambda s: (s.role != "party", s.signed_at))
