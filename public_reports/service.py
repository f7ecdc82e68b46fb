"""群众举报 (12350): taking a report from anyone, telling the reporter its status by tracking code, and
the desk's handling — triage, verification as a task, the outcome linked to an enterprise, a hazard or
a case, the reward (有奖举报).

Abuse: a signed proof-of-work challenge, single-use (challenge.py); at most
``public_reports_per_address_per_day`` reports per client address and local day (the address as the
trusted proxies report it); photos judged by decoding like staff uploads. Nothing of a report is
rendered as HTML: the API answers JSON only. The reporter's name, phone and address are shown only to
the desk officers of the report's region and to admin."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, or_, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import SHANGHAI, Clock
from core.serialize import jsonable
from core.errors import Conflict, FieldError, Forbidden, NotFound, TooManyRequests, ValidationFailed
from db.pagination import Page, paginate
from evidence.access import PhotoOwner
from evidence.models import PhotoRef
from evidence.service import _staging_file, _too_large, store_photo
from geo.models import GridAssignment, Region
from inspections.hazards import hazard_filter, place_of, require_fields, visible_enterprise
from inspections.models import Hazard, Task
from geo.location import point_geometry
from public_reports import challenge
from public_reports.models import PublicReport

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32: 10 characters, 50 bits
CODE_LENGTH = 10
DESK = ("desk_officer", "admin")
MAX_REWARD = Decimal(1_000_000)
STATUS_LABELS = {
    "received": "已受理",
    "duplicate": "重复举报，已并入先前举报处理",
    "not_safety": "不属于安全生产事项",
    "to_verify": "核查中",
    "verified": "经核查属实",
    "unfounded": "经核查不属实",
}
# Who sends a photo with a public report: nobody with an account.
PUBLIC = Principal(
    user_id=None, username="public", name="群众", roles=frozenset(), region_id=None, region_code="", region_path=""
)


class RateLimited(TooManyRequests):
    code = "public.rate_limited"
    title = "今日举报次数已达上限"


class StaleReport(Conflict):
    code = "public_report.stale_version"
    title = "举报已被他人处理，请以最新版本为准"


class WrongState(Conflict):
    code = "public_report.invalid_action"
    title = "举报当前状态不允许此操作"


def report_filter(principal: Principal, report=PublicReport):
    return principal.area_filter(region_id=report.region_id, grid_id=report.grid_id)


# A report's photos: seen by whoever may handle the report; no place or time to check them against.
PHOTO_OWNERS = (
    PhotoOwner(
        "public_report",
        lambda principal: select(PublicReport.id).where(report_filter(principal)),
        lambda session, report_id: None,
    ),
)


# --------------------------------------------------------------------------- from the public


def _local_midnight_after(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def check_rate(session: Session, clock: Clock, address: str, per_day: int) -> None:
    """RateLimited (429, Retry-After: until local midnight) once ``address`` sent ``per_day`` reports
    today. Reports from one address are counted one at a time (an advisory lock), so a burst of
    concurrent ones cannot all pass the count."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('public_report'), hashtext(:address))"), {"address": address}
    )
    now = clock.now()
    midnight = _local_midnight_after(now)
    sent = session.scalar(
        select(func.count())
        .select_from(PublicReport)
        .where(PublicReport.client_address == address, PublicReport.created_at >= midnight - timedelta(days=1))
    )
    if sent >= per_day:
        raise RateLimited(
            f"同一网络地址每天最多可提交 {per_day} 条举报，请明天再试；紧急情况请拨打 12350 或 119",
            extra={"retry_after": max(1, int((midnight - now).total_seconds()))},
        )


def _store_embedded_photos(
    session: Session, clock: Clock, store, photos: list[str], *, max_bytes: int, max_pixels: int, max_decode_bytes: int
) -> list[str]:
    """Decode each base64 photo, refuse it past the staff limits, judge it by decoding (store_photo)."""
    shas = []
    for index, encoded in enumerate(photos):
        if len(encoded) > (max_bytes + 2) // 3 * 4 + 4:
            raise _too_large(max_bytes)
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                errors=[FieldError("validation", f"photos.{index}", "照片须为 base64 编码")]
            ) from None
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        path = _staging_file(store, sha)
        path.write_bytes(data)
        store_photo(
            session,
            clock,
            PUBLIC,
            store,
            sha,
            path,
            max_pixels=max_pixels,
            max_decode_bytes=max_decode_bytes,
            digest=sha,
        )
        shas.append(sha)
    return list(dict.fromkeys(shas))


def submit_report(session: Session, clock: Clock, settings, store, data: dict, client_address: str) -> PublicReport:
    """Take a report from anyone: the cheap refusals first (photo count, the challenge's signature and
    answer, the address's daily count), then the challenge is spent and the photos decoded."""
    if len(data["photos"]) > settings.public_report_max_photos:
        raise ValidationFailed(
            errors=[FieldError("validation", "photos", f"最多 {settings.public_report_max_photos} 张照片")]
        )
    challenge_id, expires_at = challenge.check_signed(
        session, clock, data["challenge"], data["nonce"], bits=settings.public_challenge_bits
    )
    check_rate(session, clock, client_address, settings.public_reports_per_address_per_day)
    challenge.spend(session, clock, challenge_id, expires_at)
    shas = _store_embedded_photos(
        session,
        clock,
        store,
        data["photos"],
        max_bytes=settings.max_photo_bytes,
        max_pixels=settings.max_photo_pixels,
        max_decode_bytes=settings.max_decode_bytes,
    )
    region_id, grid_id = place_of(session, None, data["location"])
    now = clock.now()
    report = PublicReport(
        id=uuid.uuid4(),
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
        what=data["what"],
        place=data["place"],
        location=point_geometry(data["location"]),
        location_given=data["location"]["given"],
        region_id=region_id,
        grid_id=grid_id,
        photos=shas,
        reporter_name=data.get("name") or None,
        reporter_phone=data.get("phone") or None,
        client_address=client_address,
        status="received",
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(report)
    session.flush()
    if shas:  # its bytes came with the report: proven, so the report's viewers see them
        session.execute(
            pg_insert(PhotoRef)
            .values(
                [
                    {
                        "sha256": sha,
                        "entity": "public_report",
                        "entity_id": report.id,
                        "named_at": now,
                        "named_by": None,
                        "vouched": True,
                    }
                    for sha in shas
                ]
            )
            .on_conflict_do_nothing()
        )
    audit(session, clock, None, "receive", "public_report", report.id, {"photos": len(shas)})
    return report


def public_config(session: Session, settings, max_request_bytes: int) -> dict:
    """What the public report page needs before anything is sent: the limits it shows and checks,
    and the map (tiles when the operator set them; the districts' extent to centre on)."""
    west, south, east, north = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(Region.geometry)),
            func.ST_YMin(func.ST_Extent(Region.geometry)),
            func.ST_XMax(func.ST_Extent(Region.geometry)),
            func.ST_YMax(func.ST_Extent(Region.geometry)),
        ).where(Region.level == "district")
    ).one()
    bounds = None if west is None else {"west": west, "south": south, "east": east, "north": north}
    return {
        "max_photos": settings.public_report_max_photos,
        "max_photo_bytes": settings.max_photo_bytes,
        "max_photo_pixels": settings.max_photo_pixels,
        "max_request_bytes": max_request_bytes,
        "reports_per_day": settings.public_reports_per_address_per_day,
        "challenge_bits": settings.public_challenge_bits,
        "map": {
            "tile_url": settings.map_tile_url or None,
            "attribution": settings.map_tile_attribution,
            "bounds": bounds,
        },
    }


def public_status(session: Session, code: str) -> dict:
    """What the reporter sees by tracking code: status and outcome, never who reported."""
    report = session.scalar(select(PublicReport).where(PublicReport.code == code.strip().upper()))
    if report is None:
        raise NotFound("未找到该查询码对应的举报", code="public.unknown_code")
    return {
        "code": report.code,
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "outcome": report.outcome,
        "received_at": report.created_at,
        "updated_at": report.updated_at,
    }


# --------------------------------------------------------------------------- the desk


def _view(report: PublicReport, region_code: str | None, lon_lat: tuple | None, principal: Principal) -> dict:
    out = {
        c: getattr(report, c)
        for c in (
            "id",
            "code",
            "what",
            "place",
            "photos",
            "status",
            "duplicate_of",
            "desk_note",
            "assigned_to",
            "task_id",
            "enterprise_id",
            "hazard_id",
            "case_ref",
            "outcome",
            "reward_amount",
            "reward_paid_at",
            "created_at",
            "updated_at",
            "version",
            "grid_id",
        )
    }
    out["status_label"] = STATUS_LABELS[report.status]
    out["region_code"] = region_code
    out["location"] = {"lon": lon_lat[0], "lat": lon_lat[1]} if lon_lat else None
    out["reward_paid"] = report.reward_paid_at is not None
    if principal.has(*DESK):  # within scope already: the desk of the report's region, or admin
        out["reporter"] = {
            "name": report.reporter_name,
            "phone": report.reporter_phone,
            "client_address": report.client_address,
        }
    return out


def _select(principal: Principal):
    return (
        select(PublicReport, Region.code, func.ST_X(PublicReport.location), func.ST_Y(PublicReport.location))
        .outerjoin(Region, Region.id == PublicReport.region_id)
        .where(report_filter(principal))
    )


def list_reports(session: Session, principal: Principal, filters: dict) -> Page:
    stmt = _select(principal)
    if filters.get("status"):
        stmt = stmt.where(PublicReport.status.in_(filters["status"]))
    if filters.get("reward") is not None:
        stmt = stmt.where(
            PublicReport.reward_amount.isnot(None) if filters["reward"] else PublicReport.reward_amount.is_(None)
        )
    page = paginate(
        session,
        stmt.order_by(PublicReport.created_at.desc(), PublicReport.id),
        page=filters.get("page", 1),
        per_page=filters.get("per_page", 50),
        scalars=False,
    )
    page.items = [_view(r, code, (x, y), principal) for r, code, x, y in page.items]
    return page


def report_view(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    row = session.execute(_select(principal).where(PublicReport.id == report_id)).one_or_none()
    if row is None:
        raise NotFound("举报不存在")
    report, code, x, y = row
    return _view(report, code, (x, y), principal)


# What each desk action does: from which statuses, to which (None: unchanged, or chosen by ``decision``).
ACTIONS = {
    "triage": (("received",), ("duplicate", "not_safety", "to_verify")),
    "assign": (("to_verify",), None),
    "conclude": (("to_verify",), ("verified", "unfounded")),
    "reward": (("verified",), None),
}


def _check_assignee(session: Session, report: PublicReport, assignee_id: uuid.UUID) -> None:
    """A grid worker of the report's grid, or an inspector whose region holds the report's."""
    report_region, user_region = aliased(Region), aliased(Region)
    fits = session.scalar(
        select(User.id)
        .join(user_region, user_region.id == User.region_id)
        .where(
            User.id == assignee_id,
            User.active.is_(True),
            or_(
                and_(
                    User.roles.any("grid_worker"),
                    exists().where(
                        GridAssignment.user_id == User.id,
                        GridAssignment.grid_id == report.grid_id,
                        GridAssignment.ended_at.is_(None),
                    ),
                ),
                and_(
                    User.roles.any("inspector"),
                    exists().where(report_region.id == report.region_id, report_region.path.op("<@")(user_region.path)),
                ),
            ),
        )
    )
    if fits is None:
        raise ValidationFailed(
            errors=[FieldError("public_report.assignee", "assignee_id", "须为举报所在网格的网格员或辖区执法人员")]
        )


def act_on_report(
    session: Session, clock: Clock, principal: Principal, report_id: uuid.UUID, data: dict, *, base_version: int
) -> dict:
    if not principal.has(*DESK):
        raise Forbidden("只有内勤可以处理群众举报", code="public_report.role_not_allowed")
    report = session.scalar(
        select(PublicReport)
        .where(PublicReport.id == report_id, report_filter(principal))
        .with_for_update(of=PublicReport)
    )
    if report is None:
        raise NotFound("举报不存在")
    if base_version != report.version:
        raise StaleReport(current=_jsonable_view(session, principal, report.id))
    action = data["action"]
    sources, targets = ACTIONS[action]
    if report.status not in sources:
        raise WrongState(
            f"举报状态为 {STATUS_LABELS[report.status]}，不能执行 {action}",
            current=_jsonable_view(session, principal, report.id),
        )
    now = clock.now()
    errors: list[FieldError] = []
    if action == "triage":
        require_fields(data, ("decision",), errors)
        if data.get("decision") and data["decision"] not in targets:
            errors.append(FieldError("validation", "decision", "应为 duplicate、not_safety 或 to_verify"))
        if data.get("decision") == "duplicate":
            require_fields(data, ("duplicate_of",), errors)
            if data.get("duplicate_of") and (
                data["duplicate_of"] == report.id
                or not session.scalar(
                    select(func.count())
                    .select_from(PublicReport)
                    .where(PublicReport.id == data["duplicate_of"], report_filter(principal))
                )
            ):
                errors.append(FieldError("public_report.duplicate_of", "duplicate_of", "所指举报不存在"))
        if not errors:
            report.status = data["decision"]
            report.duplicate_of = data.get("duplicate_of")
            if data["decision"] != "to_verify":
                report.outcome = data.get("outcome") or STATUS_LABELS[data["decision"]]
    elif action == "assign":
        require_fields(data, ("assignee_id",), errors)
        if not errors:
            _check_assignee(session, report, data["assignee_id"])
            task = Task(
                kind="verify_report",
                title=f"核查群众举报 {report.code}",
                assignee_id=data["assignee_id"],
                target_entity="public_report",
                target_id=report.id,
                enterprise_id=report.enterprise_id,
                due=data.get("due") or now + timedelta(days=3),
                period_key=f"v{report.version + 1}",
                status="open",
                note=data.get("note") or "",
                region_id=report.region_id,
                grid_id=report.grid_id,
                created_at=now,
                updated_at=now,
                version=1,
            )
            session.add(task)
            session.flush()
            report.assigned_to, report.task_id = data["assignee_id"], task.id
    elif action == "conclude":
        require_fields(data, ("result", "outcome"), errors)
        if data.get("result") and data["result"] not in targets:
            errors.append(FieldError("validation", "result", "应为 verified 或 unfounded"))
        if data.get("enterprise_id"):
            visible_enterprise(session, principal, data["enterprise_id"], "enterprise_id")
        if data.get("hazard_id") and not session.scalar(
            select(func.count()).select_from(Hazard).where(Hazard.id == data["hazard_id"], hazard_filter(principal))
        ):
            errors.append(FieldError("scope.not_visible", "hazard_id", "隐患不存在或不在您的辖区"))
        if not errors:
            report.status = data["result"]
            report.outcome = data["outcome"]
            for key in ("enterprise_id", "hazard_id", "case_ref"):
                if data.get(key):
                    setattr(report, key, data[key])
    elif action == "reward":
        require_fields(data, ("amount",), errors)
        if data.get("amount") is not None and not Decimal(0) < data["amount"] <= MAX_REWARD:
            errors.append(FieldError("validation", "amount", "奖励金额须大于 0 且不超过 100 万元"))
        if not errors:
            report.reward_amount = data["amount"]
            report.reward_paid_at = (report.reward_paid_at or now) if data.get("paid") else None
    if errors:
        raise ValidationFailed(errors=errors)
    if data.get("note"):
        report.desk_note = data["note"]
    report.version += 1
    report.updated_at = now
    session.flush()
    audit(
        session,
        clock,
        principal,
        action,
        "public_report",
        report.id,
        {"status": report.status, "version": report.version},
    )
    return report_view(session, principal, report.id)


def _jsonable_view(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    return jsonable(report_view(session, principal, report_id))
