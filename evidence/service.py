"""Photo evidence: receiving uploads (whole or in parts), storing each photo once, naming
photos from records, describing a photo with its geotag check, removing orphans.

Functions take the session (flush, never commit), the clock and the photo store; the
HTTP layer hands in the request body as a plain binary stream.

Locking, so that nobody is told "held" about a photo that is being removed: whoever
answers "held" (an upload's check, ``name_photos``) takes ``FOR KEY SHARE`` on the photo
row until its transaction ends; the orphan sweep takes ``FOR UPDATE SKIP LOCKED`` and
passes over rows someone holds. A new row is inserted before its files are written, so
an upload racing the sweep waits on the row and writes its files after the sweep has
deleted its own.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Iterable

from sqlalchemy import (
    Boolean,
    DateTime,
    Text,
    Uuid,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import TooLarge
from evidence.access import SHA, PhotoContext, per_principal, photo_owner, photo_visible, visible_refs
from evidence.imaging import inspect_and_thumbnail
from evidence.models import Photo, PhotoRef
from evidence.storage import (
    HashMismatch,
    PartIncomplete,
    PhotoNotFound,
    PhotoStore,
    RangeInvalid,
    check_sha,
    sha256_of_file,
)
from geo.coords import distance_m

# Read the body in blocks of this size: never more than one block in memory.
BLOCK = 1024 * 1024
THUMB_SIDE = 512


class PhotoTooLarge(TooLarge):
    code = "photo.too_large"
    title = "照片超过允许的大小"


def _too_large(max_bytes: int) -> PhotoTooLarge:
    return PhotoTooLarge(f"照片不能超过 {max_bytes} 字节", extra={"max_bytes": max_bytes})


# --------------------------------------------------------------------------- held or not


def photo_held(session: Session, store: PhotoStore, sha: str) -> bool:
    """Whether the photo is stored (row and original). The row stays locked (FOR KEY SHARE)
    until the transaction ends, so the orphan sweep cannot remove it meanwhile. A row whose
    file is gone does not count: the next upload heals it."""
    row = session.scalar(select(Photo.sha256).where(Photo.sha256 == check_sha(sha)).with_for_update(key_share=True))
    return row is not None and store.has(sha)


def upload_state(session: Session, store: PhotoStore, sha: str) -> tuple[str, int]:
    """("held", 0) | ("partial", bytes received so far) | ("absent", 0): what HEAD answers.

    When held, any parts of it still lying about are dropped: a client that resumed an upload
    somebody else has completed is told "held" and stops sending."""
    if photo_held(session, store, sha):
        store.discard_part(sha)
        return "held", 0
    received = store.received(sha)
    if received:
        return "partial", received
    return "absent", 0


# --------------------------------------------------------------------------- receiving


def _staging_file(store: PhotoStore, sha: str) -> Path:
    # ".tmp": what purge_partials sweeps when a crash leaves one behind.
    return store.staging_dir / f".{sha}.{secrets.token_hex(8)}.tmp"


def refuse_declared_too_large(declared_length: int | None, max_bytes: int) -> None:
    """PhotoTooLarge (413) for a body announced larger than ``max_bytes``: checked before the
    body is touched at all."""
    if declared_length is not None and declared_length > max_bytes:
        raise _too_large(max_bytes)


def receive_upload(
    store: PhotoStore, sha: str, stream: BinaryIO, *, max_bytes: int, declared_length: int | None = None
) -> tuple[Path, str]:
    """Copy a whole-photo body into a staging file, hashing and counting as it arrives.

    Refuses (PhotoTooLarge, 413) a declared length over ``max_bytes`` before reading, and
    a body that turns out longer while reading (chunked bodies declare nothing). Returns the
    file (the caller hands it to ``store_photo``) and its SHA-256."""
    check_sha(sha)
    refuse_declared_too_large(declared_length, max_bytes)
    path = _staging_file(store, sha)
    digest = hashlib.sha256()
    received = 0
    try:
        with open(path, "xb") as fh:
            while block := stream.read(BLOCK):
                received += len(block)
                if received > max_bytes:
                    raise _too_large(max_bytes)
                digest.update(block)
                fh.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest()


def receive_part(
    store: PhotoStore,
    sha: str,
    stream: BinaryIO,
    *,
    start: int,
    end: int,
    total: int,
    max_bytes: int,
    declared_length: int | None = None,
) -> int:
    """Append the part ``start..end`` (inclusive) of a ``total``-byte photo; returns how many
    bytes the server now holds from 0.

    Written block by block as it arrives, so a connection that breaks mid-part keeps what
    came through and the client resumes from there (HEAD says where). A part seen twice
    rewrites the same bytes; a part starting past what is held is refused (RangeGap, 409)."""
    check_sha(sha)
    if not 0 <= start <= end < total:
        raise RangeInvalid(
            f"Content-Range 范围 {start}-{end}/{total} 无效", extra={"start": start, "end": end, "total": total}
        )
    if total > max_bytes:
        raise _too_large(max_bytes)
    length = end - start + 1
    if declared_length is not None and declared_length != length:
        raise RangeInvalid(
            f"Content-Length {declared_length} 与 Content-Range 的 {length} 字节不一致",
            extra={"content_length": declared_length, "range_length": length},
        )
    offset, received = start, None
    while offset <= end:
        block = stream.read(min(BLOCK, end + 1 - offset))
        if not block:
            break  # the body ended early: keep what came, the answer says how much
        received = store.append_part(sha, offset, block, total)
        offset += len(block)
    if received is None:
        raise RangeInvalid("分段内容为空", extra={"start": start, "end": end, "total": total})
    return received


def store_photo(
    session: Session,
    clock: Clock,
    principal: Principal,
    store: PhotoStore,
    sha: str,
    path: Path,
    *,
    max_pixels: int,
    max_decode_bytes: int,
    digest: str | None = None,
) -> bool:
    """Check, describe and store a received photo file (consumed whatever happens).

    HashMismatch (422) when the bytes do not hash to ``sha`` — checked first, also for a photo
    already held: only its bytes earn the answer "held". TooManyPixels (413) past ``max_pixels``;
    NotAnImage (415) unless it decodes completely as JPEG, PNG or HEIC. A held photo is not decoded
    or written again. The row is inserted before the files are written (see the module docstring);
    of two concurrent uploads one inserts it and the other finds it (ON CONFLICT DO NOTHING).
    Either way the caller has now proved the bytes, so the records they named it in show it
    (``vouch_photo``). Returns True when this call created the photo."""
    created = False
    try:
        actual = digest or sha256_of_file(path)
        if actual != check_sha(sha):
            raise HashMismatch(
                f"内容的 SHA-256 为 {actual}，与名称 {sha} 不符", extra={"expected": sha, "actual": actual}
            )
        if not photo_held(session, store, sha):
            info, thumb = inspect_and_thumbnail(
                path, max_pixels=max_pixels, max_side=THUMB_SIDE, max_decode_bytes=max_decode_bytes
            )
            gps = func.ST_SetSRID(func.ST_MakePoint(info.gps[0], info.gps[1]), 4326) if info.gps else None
            created = (
                session.scalar(
                    pg_insert(Photo)
                    .values(
                        sha256=sha,
                        mime=info.mime,
                        size_bytes=info.size_bytes,
                        width=info.width,
                        height=info.height,
                        taken_at=info.taken_at,
                        gps=gps,
                        altitude_m=info.gps_altitude,
                        orientation=info.orientation,
                        camera=(info.camera or None) and info.camera[:200],
                        uploaded_by=principal.user_id,
                        uploaded_from=principal.device_id,
                        uploaded_at=clock.now(),
                        thumb_stored=True,
                    )
                    .on_conflict_do_nothing(index_elements=[Photo.sha256])
                    .returning(Photo.sha256)
                )
                is not None
            )
            # Both idempotent: when the row existed the files normally do too, and put says so;
            # when a row had lost its file, this puts it back.
            store.put(sha, path, "original", move=True)
            store.put(sha, thumb, "thumb")
    finally:
        path.unlink(missing_ok=True)
    if created:
        audit(
            session,
            clock,
            principal,
            "upload",
            "photo",
            sha,
            {
                "mime": info.mime,
                "size_bytes": info.size_bytes,
                "width": info.width,
                "height": info.height,
                "gps": info.gps is not None,
                "taken_at": info.taken_at is not None,
            },
        )
    vouch_photo(session, principal, sha)
    # Another client's unfinished parts of this photo are now pointless.
    store.discard_part(sha)
    return created


def complete_upload(
    session: Session,
    clock: Clock,
    principal: Principal,
    store: PhotoStore,
    sha: str,
    *,
    max_pixels: int,
    max_decode_bytes: int,
) -> bool:
    """Store a resumable upload whose parts are all in (see store_photo).

    When two requests bring the last bytes at once, one claims the file and the other gets
    PartIncomplete (409, ``photo.incomplete``): it asks HEAD, which soon answers 200."""
    try:
        claim = store.take_part(sha)
    except PhotoNotFound:
        raise PartIncomplete(
            "另一个上传正在完成此照片，请稍后用 HEAD 查询", extra={"received": 0, "total": None}
        ) from None
    with claim as path:
        return store_photo(
            session, clock, principal, store, sha, path, max_pixels=max_pixels, max_decode_bytes=max_decode_bytes
        )


# --------------------------------------------------------------------------- records naming photos


def _unique(shas: Iterable[str]) -> list[str]:
    return sorted({check_sha(sha) for sha in shas})


@per_principal
def _held_and_seen(principal: Principal):
    """The photos among ``:shas`` the server holds, each with whether the caller may see it, locked
    FOR KEY SHARE until the transaction ends (see ``name_photos``)."""
    return (
        select(Photo.sha256, photo_visible(principal))
        .where(Photo.sha256 == any_(bindparam("shas", type_=ARRAY(Text))))
        .with_for_update(key_share=True, of=Photo)
    )


# One row per (photo, record): four arrays of equal length, unnested side by side. Plain SQL because a
# PostgreSQL INSERT … ON CONFLICT built by SQLAlchemy has no cache key (postgresql.Insert sets
# inherit_cache = False): it was compiled anew on every push, ~10 % of a push's CPU.
_NAME_PHOTOS = text("""
    INSERT INTO photo_refs (sha256, entity, entity_id, named_at, named_by, vouched)
    SELECT n.sha256, n.entity, n.entity_id, :named_at, :named_by, n.vouched
      FROM unnest(:shas, :entities, :entity_ids, :vouched) AS n(sha256, entity, entity_id, vouched)
    ON CONFLICT (sha256, entity, entity_id) DO UPDATE SET vouched = true
     WHERE excluded.vouched AND NOT photo_refs.vouched""").bindparams(
    bindparam("shas", type_=ARRAY(Text)),
    bindparam("entities", type_=ARRAY(Text)),
    bindparam("entity_ids", type_=ARRAY(Uuid)),
    bindparam("vouched", type_=ARRAY(Boolean)),
    bindparam("named_at", type_=DateTime(timezone=True)),
    bindparam("named_by", type_=Uuid),
)


def name_photos(
    session: Session, clock: Clock, principal: Principal, entity: str, entity_id: uuid.UUID, shas: Iterable[str]
) -> list[str]:
    """Record that ``entity``/``entity_id`` names these photos (idempotent) and return the ones
    not held yet, sorted: a sync push answers them as ``missing_photos``.

    The record's viewers see a named photo only if the caller may see it now, or uploads it or
    proves its bytes later (``vouch_photo``): a photo's hash is no key to it.

    The held photos stay locked (FOR KEY SHARE) until the transaction ends, so the orphan
    sweep cannot remove a photo this call has just reported as held."""
    return name_photos_many(session, clock, principal, [(entity, entity_id, shas)])[0]


def name_photos_many(
    session: Session, clock: Clock, principal: Principal, named: list[tuple[str, uuid.UUID, Iterable[str]]]
) -> list[list[str]]:
    """``name_photos`` for several records at once (entity, id, photos): two statements whatever their
    number. Returns each record's photos not held yet, sorted. The records must be distinct (one
    statement cannot touch the same reference twice)."""
    wanted = [_unique(shas) for _, _, shas in named]
    rows = [(sha, entity, entity_id) for (entity, entity_id, _), shas in zip(named, wanted) for sha in shas]
    if not rows:
        return [[] for _ in named]
    # Locked first: the orphan sweep passes over these rows from now on, and waits for none of them.
    every = sorted({r[0] for r in rows})
    held = {sha: seen for sha, seen in session.execute(_held_and_seen(principal), {"shas": every})}
    # Vouched when the namer may see the photo already: naming it then shows the record's viewers
    # nothing its namer could not show them anyway.
    session.execute(
        _NAME_PHOTOS,
        {
            "shas": [r[0] for r in rows],
            "entities": [r[1] for r in rows],
            "entity_ids": [r[2] for r in rows],
            "vouched": [held.get(r[0]) is True for r in rows],
            "named_at": clock.now(),
            "named_by": principal.user_id,
        },
    )
    return [[sha for sha in shas if sha not in held] for shas in wanted]


def vouch_photo(session: Session, principal: Principal, sha: str) -> None:
    """The caller has shown the photo's bytes (uploaded it, or sent them again): the records they
    named it in now show it to their viewers."""
    session.execute(
        update(PhotoRef)
        .where(PhotoRef.sha256 == sha, PhotoRef.named_by == principal.user_id, PhotoRef.vouched.is_(False))
        .values(vouched=True)
    )


def missing_photos(session: Session, shas: Iterable[str]) -> list[str]:
    """The photos among ``shas`` the server does not hold, sorted."""
    wanted = _unique(shas)
    if not wanted:
        return []
    names = func.unnest(literal(wanted, ARRAY(Text))).table_valued("sha256").render_derived()
    return list(
        session.scalars(
            select(names.c.sha256).where(~exists().where(Photo.sha256 == names.c.sha256)).order_by(names.c.sha256)
        )
    )


def photos_named_by(session: Session, entity: str, entity_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(PhotoRef.sha256)
            .where(PhotoRef.entity == entity, PhotoRef.entity_id == entity_id)
            .order_by(PhotoRef.sha256)
        )
    )


# --------------------------------------------------------------------------- reading


@per_principal
def _visible_photo_stmt(principal: Principal):
    return (
        select(
            Photo.sha256,
            Photo.mime,
            Photo.size_bytes,
            Photo.width,
            Photo.height,
            Photo.orientation,
            Photo.taken_at,
            func.ST_X(Photo.gps).label("lon"),
            func.ST_Y(Photo.gps).label("lat"),
            Photo.altitude_m,
            Photo.camera,
            Photo.uploaded_by,
            User.name.label("uploader_name"),
            Photo.uploaded_from,
            Photo.uploaded_at,
            Photo.thumb_stored,
        )
        # Outer: a photo sent with a public report has no uploader account.
        .outerjoin(User, User.id == Photo.uploaded_by)
        .where(Photo.sha256 == SHA, photo_visible(principal))
    )


def _visible_photo(session: Session, principal: Principal, sha: str):
    """The photo row if the caller may see it (one query), else PhotoNotFound (404, for a
    photo that does not exist and for one the caller may not see alike)."""
    row = session.execute(_visible_photo_stmt(principal), {"sha": check_sha(sha)}).one_or_none()
    if row is None:
        raise PhotoNotFound(extra={"sha256": sha})
    return row


def photo_file(session: Session, principal: Principal, sha: str, kind: str) -> dict:
    """What serving the original or the thumbnail needs, for a caller who may see it."""
    row = _visible_photo(session, principal, sha)
    if kind == "thumb":
        if not row.thumb_stored:
            raise PhotoNotFound("此照片没有缩略图", extra={"sha256": sha, "kind": kind})
        return {"sha256": sha, "mime": "image/jpeg"}
    return {"sha256": sha, "mime": row.mime, "size_bytes": row.size_bytes}


def describe_photo(session: Session, principal: Principal, sha: str, *, geofence_m: float) -> dict:
    """Metadata (GPS in WGS-84) and the geotag check against every visible record naming it."""
    row = _visible_photo(session, principal, sha)
    gps = (row.lon, row.lat) if row.lon is not None else None
    return {
        "sha256": row.sha256,
        "mime": row.mime,
        "size_bytes": row.size_bytes,
        "width": row.width,
        "height": row.height,
        "orientation": row.orientation,
        "taken_at": row.taken_at,
        "gps": {"lon": gps[0], "lat": gps[1]} if gps else None,
        "altitude_m": row.altitude_m,
        "camera": row.camera,
        "uploaded_by": {"id": row.uploaded_by, "name": row.uploader_name} if row.uploaded_by else None,
        "uploaded_from": row.uploaded_from,
        "uploaded_at": row.uploaded_at,
        "thumb_url": f"/api/v1/photos/{sha}/thumb",
        "original_url": f"/api/v1/photos/{sha}/original",
        "geotag": geotag_checks(session, principal, sha, gps=gps, taken_at=row.taken_at, threshold_m=geofence_m),
    }


def photo_summary(session: Session, sha: str) -> dict:
    """What anyone holding the bytes knows anyway: for an upload answer to a caller who may
    not see the photo's records."""
    row = session.execute(
        select(Photo.sha256, Photo.mime, Photo.size_bytes, Photo.width, Photo.height).where(Photo.sha256 == sha)
    ).one()
    return dict(row._mapping)


# --------------------------------------------------------------------------- geotag check


def geotag_checks(
    session: Session, principal: Principal, sha: str, *, gps: tuple[float, float] | None, taken_at, threshold_m: float
) -> list[dict]:
    """One check per record naming the photo that the caller may see.

    Distances are great-circle metres from the EXIF position to the record's location and
    to its enterprise's registered location; ``within_threshold`` holds when the nearer of
    the two is within ``threshold_m``. Missing GPS or time is reported as "missing" with the
    answers that need it null — many phones strip EXIF, and that is not evidence of fraud."""
    refs = visible_refs(session, principal, sha)
    contexts: list[tuple[str, uuid.UUID, PhotoContext]] = []
    for entity, entity_id in refs:
        owner = photo_owner(entity)
        context = owner.context(session, entity_id) if owner else None
        contexts.append((entity, entity_id, context or PhotoContext()))

    checks = []
    for entity, entity_id, context in contexts:
        to_record = _distance(gps, context.location)
        to_enterprise = _distance(gps, context.enterprise_location)
        known = [d for d in (to_record, to_enterprise) if d is not None]
        start, end = context.window or (None, None)
        checks.append(
            {
                "entity": entity,
                "entity_id": entity_id,
                "gps": "present" if gps else "missing",
                "time": "present" if taken_at else "missing",
                "distance_m_to_record": to_record,
                "distance_m_to_enterprise": to_enterprise,
                "threshold_m": threshold_m,
                "within_threshold": (min(known) <= threshold_m) if known else None,
                "window": {"start": start, "end": end} if context.window else None,
                "taken_in_window": (
                    ((start is None or start <= taken_at) and (end is None or taken_at <= end))
                    if taken_at and context.window
                    else None
                ),
            }
        )
    return checks


def _distance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    return round(distance_m(a[0], a[1], b[0], b[1]), 1)


# --------------------------------------------------------------------------- orphans


def remove_orphan_photos(session: Session, clock: Clock, store: PhotoStore, older_than_days: int) -> int:
    """Remove photos uploaded more than ``older_than_days`` ago that no record names; returns
    how many. Rows first, then their files (originals and thumbnails; parts being uploaded
    are left alone).

    Two statements on purpose (READ COMMITTED): the first locks the candidates, skipping
    rows someone holds; the second runs on a fresh snapshot and so sees any reference
    committed in between before deleting."""
    cutoff = clock.now() - timedelta(days=older_than_days)
    unnamed = ~exists().where(PhotoRef.sha256 == Photo.sha256)
    candidates = list(
        session.scalars(
            select(Photo.sha256).where(Photo.uploaded_at < cutoff, unnamed).with_for_update(skip_locked=True)
        )
    )
    if not candidates:
        return 0
    removed = list(session.scalars(delete(Photo).where(Photo.sha256.in_(candidates), unnamed).returning(Photo.sha256)))
    if not removed:
        return 0
    audit(
        session,
        clock,
        None,
        "remove_orphans",
        "photo",
        None,
        {"count": len(removed), "older_than_days": older_than_days, "sha256": sorted(removed)},
    )
    session.flush()
    # The rows stay locked (deleted, uncommitted) until the caller commits: an upload of the
    # same photo waits on its INSERT and then writes fresh files after these deletions.
    for sha in removed:
        store.delete(sha, "original")
        store.delete(sha, "thumb")
    return len(removed)
