"""Settings: read from the environment once (in wsgi.py or a CLI entry point),
validated, then injected into ``create_app(settings)``. Nothing reads the
environment at import time."""

from __future__ import annotations

import dataclasses
import logging
import os
import urllib.parse
from dataclasses import dataclass, field
from typing import Mapping


class SettingsError(ValueError):
    """The environment does not describe a runnable configuration."""


# Scheduled jobs (jobs/, README "Scheduled jobs"): patrol frequency per risk colour, the 日周月 rule.
PATROL_CADENCES = ("daily", "weekly", "biweekly", "monthly", "quarterly", "off")
DEFAULT_PATROL_FREQUENCIES = {"red": "weekly", "orange": "biweekly", "yellow": "monthly", "blue": "quarterly"}
SELF_INSPECTION_CADENCES = ("daily", "weekly", "monthly")


def _patrol_frequencies(raw: str | None, problems: list[str]) -> dict[str, str]:
    """``red=weekly,orange=biweekly,…``: colours not named keep their default."""
    out = dict(DEFAULT_PATROL_FREQUENCIES)
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        colour, _, cadence = (s.strip() for s in part.partition("="))
        if colour not in DEFAULT_PATROL_FREQUENCIES or cadence not in PATROL_CADENCES:
            problems.append(
                f"ANXUN_PATROL_FREQUENCIES: {part.strip()!r} is not colour=cadence "
                f"(colours {', '.join(DEFAULT_PATROL_FREQUENCIES)}; cadences {', '.join(PATROL_CADENCES)})"
            )
            continue
        out[colour] = cadence
    return out


def _cadences(raw: str | None, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return SELF_INSPECTION_CADENCES
    chosen = tuple(c.strip() for c in raw.split(",") if c.strip())
    if any(c not in SELF_INSPECTION_CADENCES for c in chosen):
        problems.append(f"ANXUN_SELF_INSPECTION_CADENCES must list some of {', '.join(SELF_INSPECTION_CADENCES)}")
    return chosen


def _int(env: Mapping[str, str], name: str, default: int, problems: list[str], minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name} must be an integer, got {raw!r}")
        return default
    if value < minimum:
        problems.append(f"{name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    # Tokens live long: phones stay offline for days and must still push when back.
    token_ttl_hours: int = 24 * 30
    login_window_seconds: int = 15 * 60
    login_max_failures_per_user: int = 5
    login_max_failures_per_address: int = 30
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto entries are believed (the
    # documented nginx: 1). 0 believes none: a client could otherwise name any address it likes.
    trusted_proxies: int = 0
    geofence_meters: int = 300
    # 12350 public reports: reports one client address may send per local day, the leading zero bits
    # of the proof-of-work (18: ~260k SHA-256 on average, a second or two in a phone's browser), how
    # long a challenge lasts, photos per report (each within max_photo_bytes / max_photo_pixels).
    public_reports_per_address_per_day: int = 30
    public_challenge_bits: int = 18
    public_challenge_seconds: int = 600
    public_report_max_photos: int = 3
    # Map tiles of the web pages ({z}/{x}/{y} template: 天地图 with its key, or the county's own server)
    # and their attribution; none: maps show points on a blank background and pages offer GPS and text.
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    photo_storage: str = "filesystem"
    photo_root: str = "var/photos"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_prefix: str = "photos/"
    max_photo_bytes: int = 20 * 1024 * 1024
    photo_chunk_bytes: int = 1024 * 1024
    # 8192×6144 (50 MP phone modes) fits; 200 MP modes do not (memory per worker).
    max_photo_pixels: int = 64_000_000
    # Memory one worker process spends decoding photos at once (uploads decoding together wait for
    # their share): a 48 MP HEIC takes ~430 MB, a 64 MP RGBA PNG ~490 MB, a 64 MP JPEG ~4 MB (decoded
    # at reduced scale). A photo needing more is refused.
    max_decode_bytes: int = 512 * 1024 * 1024
    # A signature drawn on a phone screen: twelve strokes on 1080×600 to 1080×2400 measured 21–32 KiB (PNG).
    max_signature_bytes: int = 512 * 1024
    max_signature_pixels: int = 4_000_000
    # Positions in one drawn geometry (all rings and parts): 400,000 took PostGIS 11.6 s. A village
    # boundary drawn by hand has hundreds; a surveyed one a few thousand.
    max_geometry_vertices: int = 20_000
    orphan_photo_days: int = 30
    # Feed rows older than this (superseded ones and tombstones) are compacted; a phone that has not
    # pulled for longer starts again with a full snapshot.
    feed_retention_days: int = 30
    max_batch_changes: int = 1000
    # Push stores runs of inspection and patrol creates together (sync/push.py); off: change by change,
    # the same answers (tests/sync/test_push_equivalence.py compares the two).
    push_set_based: bool = True
    max_batch_bytes: int = 8 * 1024 * 1024
    db_pool_size: int = 5
    patrol_frequencies: dict = field(default_factory=lambda: dict(DEFAULT_PATROL_FREQUENCIES))
    self_inspection_cadences: tuple = SELF_INSPECTION_CADENCES
    # Overdue major hazards: "propose" 挂牌督办 in the desk officer's task, or "apply" it at once.
    supervise_overdue_major: str = "propose"
    supervising_office: str = "安全生产委员会办公室"
    # 复查: local practice accepts within 10 days of the deadline (reference/REGULATIONS.md §6).
    recheck_within_days: int = 10
    # Days after a month ends before its figures are frozen: phones offline over the month end sync first.
    figures_grace_days: int = 2
    # How often a standby scheduler tries to take over from the acting one.
    scheduler_retry_seconds: int = 15
    # Where the public can reach this server: the QR code on each document leads to its verification there.
    public_base_url: str = "http://localhost:8000"
    # A county's own document templates, searched before the built-in ones (documents/templates).
    document_templates: str = ""
    log_level: str = "INFO"
    # Every problem's ``type`` is this followed by its ``code`` (api/errors.py). Not about:blank: that
    # says a problem means no more than its HTTP status (RFC 9457 §4.2.1), while ours are distinct.
    # The .invalid domain (RFC 6761) never resolves, so no page is promised until the operator points
    # it at pages of their own.
    problem_base_url: str = "https://anxun.invalid/problems/"
    testing: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        # Paths are resolved once, against the working directory the process starts in (the checkout,
        # under `make run`): whoever uses them later — send_file resolves a relative path against the
        # api package — gets the same absolute place.
        object.__setattr__(self, "photo_root", os.path.abspath(self.photo_root))

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides) -> "Settings":
        problems: list[str] = []
        url = overrides.pop("database_url", None) or env.get("DATABASE_URL", "")
        if not url:
            problems.append("DATABASE_URL is required (postgresql://user@host:port/dbname)")
        elif not url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            problems.append("DATABASE_URL must be a postgresql:// URL")
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        storage = env.get("ANXUN_PHOTO_STORAGE", "filesystem")
        if storage not in ("filesystem", "s3"):
            problems.append("ANXUN_PHOTO_STORAGE must be 'filesystem' or 's3'")
        if storage == "s3" and not env.get("ANXUN_S3_BUCKET"):
            problems.append("ANXUN_S3_BUCKET is required when ANXUN_PHOTO_STORAGE=s3")
        supervise = env.get("ANXUN_SUPERVISE_OVERDUE_MAJOR", "propose")
        if supervise not in ("apply", "propose"):
            problems.append("ANXUN_SUPERVISE_OVERDUE_MAJOR must be 'apply' or 'propose'")
        level = env.get("ANXUN_LOG_LEVEL", "INFO").upper()
        if level not in logging.getLevelNamesMapping():
            problems.append(f"ANXUN_LOG_LEVEL {level!r} is not a logging level")
        problem_base_url = env.get("ANXUN_PROBLEM_BASE_URL", cls.problem_base_url)
        parts = urllib.parse.urlsplit(problem_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append("ANXUN_PROBLEM_BASE_URL must be an absolute http(s) URL")
        values = dict(
            database_url=url,
            problem_base_url=problem_base_url.rstrip("/") + "/",
            token_ttl_hours=_int(env, "ANXUN_TOKEN_TTL_HOURS", cls.token_ttl_hours, problems, 1),
            login_window_seconds=_int(env, "ANXUN_LOGIN_WINDOW_SECONDS", cls.login_window_seconds, problems, 1),
            login_max_failures_per_user=_int(
                env, "ANXUN_LOGIN_MAX_FAILURES_PER_USER", cls.login_max_failures_per_user, problems, 1
            ),
            login_max_failures_per_address=_int(
                env, "ANXUN_LOGIN_MAX_FAILURES_PER_ADDRESS", cls.login_max_failures_per_address, problems, 1
            ),
            trusted_proxies=_int(env, "ANXUN_TRUSTED_PROXIES", cls.trusted_proxies, problems, 0),
            geofence_meters=_int(env, "ANXUN_GEOFENCE_METERS", cls.geofence_meters, problems, 1),
            public_reports_per_address_per_day=_int(
                env, "ANXUN_PUBLIC_REPORTS_PER_ADDRESS_PER_DAY", cls.public_reports_per_address_per_day, problems, 1
            ),
            public_challenge_bits=_int(env, "ANXUN_PUBLIC_CHALLENGE_BITS", cls.public_challenge_bits, problems, 0),
            public_challenge_seconds=_int(
                env, "ANXUN_PUBLIC_CHALLENGE_SECONDS", cls.public_challenge_seconds, problems, 10
            ),
            public_report_max_photos=_int(
                env, "ANXUN_PUBLIC_REPORT_MAX_PHOTOS", cls.public_report_max_photos, problems, 0
            ),
            map_tile_url=env.get("ANXUN_MAP_TILE_URL", "").strip(),
            map_tile_attribution=env.get("ANXUN_MAP_TILE_ATTRIBUTION", "").strip(),
            photo_storage=storage,
            photo_root=env.get("ANXUN_PHOTO_ROOT", cls.photo_root),
            s3_bucket=env.get("ANXUN_S3_BUCKET", ""),
            s3_endpoint_url=env.get("ANXUN_S3_ENDPOINT_URL", ""),
            s3_prefix=env.get("ANXUN_S3_PREFIX", cls.s3_prefix),
            max_photo_bytes=_int(env, "ANXUN_MAX_PHOTO_BYTES", cls.max_photo_bytes, problems, 1024),
            photo_chunk_bytes=_int(env, "ANXUN_PHOTO_CHUNK_BYTES", cls.photo_chunk_bytes, problems, 1024),
            max_photo_pixels=_int(env, "ANXUN_MAX_PHOTO_PIXELS", cls.max_photo_pixels, problems, 1),
            max_decode_bytes=_int(env, "ANXUN_MAX_DECODE_BYTES", cls.max_decode_bytes, problems, 16 * 1024 * 1024),
            max_signature_bytes=_int(env, "ANXUN_MAX_SIGNATURE_BYTES", cls.max_signature_bytes, problems, 1024),
            max_signature_pixels=_int(env, "ANXUN_MAX_SIGNATURE_PIXELS", cls.max_signature_pixels, problems, 1),
            max_geometry_vertices=_int(env, "ANXUN_MAX_GEOMETRY_VERTICES", cls.max_geometry_vertices, problems, 4),
            orphan_photo_days=_int(env, "ANXUN_ORPHAN_PHOTO_DAYS", cls.orphan_photo_days, problems, 1),
            feed_retention_days=_int(env, "ANXUN_FEED_RETENTION_DAYS", cls.feed_retention_days, problems, 1),
            max_batch_changes=_int(env, "ANXUN_MAX_BATCH_CHANGES", cls.max_batch_changes, problems, 1),
            push_set_based=env.get("ANXUN_PUSH_SET_BASED", "1") != "0",
            max_batch_bytes=_int(env, "ANXUN_MAX_BATCH_BYTES", cls.max_batch_bytes, problems, 64 * 1024),
            db_pool_size=_int(env, "ANXUN_DB_POOL_SIZE", cls.db_pool_size, problems, 1),
            patrol_frequencies=_patrol_frequencies(env.get("ANXUN_PATROL_FREQUENCIES"), problems),
            self_inspection_cadences=_cadences(env.get("ANXUN_SELF_INSPECTION_CADENCES"), problems),
            supervise_overdue_major=supervise,
            supervising_office=env.get("ANXUN_SUPERVISING_OFFICE") or cls.supervising_office,
            recheck_within_days=_int(env, "ANXUN_RECHECK_WITHIN_DAYS", cls.recheck_within_days, problems, 0),
            figures_grace_days=_int(env, "ANXUN_FIGURES_GRACE_DAYS", cls.figures_grace_days, problems, 0),
            scheduler_retry_seconds=_int(
                env, "ANXUN_SCHEDULER_RETRY_SECONDS", cls.scheduler_retry_seconds, problems, 1
            ),
            public_base_url=env.get("ANXUN_PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            document_templates=env.get("ANXUN_DOCUMENT_TEMPLATES", ""),
            log_level=level,
        )
        values.update(overrides)
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(**values)

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
