"""The proof-of-work challenge a public report must carry: no outside service, no state until used.

The server signs ``id.expires.bits`` with a key it keeps in ``server_secrets`` (made at migration, so
every worker agrees); the client finds a ``nonce`` such that SHA-256 of ``challenge:nonce`` starts
with ``bits`` zero bits. A challenge is good for one report (``public_spent_challenges``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Conflict, FieldError, ValidationFailed
from public_reports.models import ServerSecret, SpentChallenge


class ChallengeFailed(ValidationFailed):
    code = "public.challenge_failed"
    title = "验证未通过，请重新获取验证题目"


class ChallengeUsed(Conflict):
    code = "public.challenge_used"
    title = "该验证题目已使用过，请重新获取"


def _key(session: Session) -> bytes:
    return session.scalar(select(ServerSecret.value).where(ServerSecret.name == "public_challenge")).encode()


def _signature(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(challenge: str, nonce: str, bits: int) -> bool:
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) >= bits


def issue_challenge(session: Session, clock: Clock, *, bits: int, seconds: int) -> dict:
    expires = int(clock.now().timestamp()) + seconds
    body = f"{secrets.token_hex(16)}.{expires}.{bits}"
    return {
        "challenge": f"{body}.{_signature(_key(session), body)}",
        "bits": bits,
        "expires_at": datetime.fromtimestamp(expires, timezone.utc),
        "how": "找出 nonce，使 SHA-256(challenge + ':' + nonce) 的前 bits 位为 0（nonce 至多 64 个字符）",
    }


def check_signed(session: Session, clock: Clock, challenge: str, nonce: str, *, bits: int) -> tuple[str, datetime]:
    """The challenge's id and expiry when it is ours, unexpired, as hard as required and solved."""
    parts = challenge.split(".")
    if len(parts) != 4 or not hmac.compare_digest(_signature(_key(session), ".".join(parts[:3])), parts[3]):
        raise ChallengeFailed(
            "验证题目无效", errors=[FieldError("public.challenge_failed", "challenge", "验证题目无效")]
        )
    challenge_id, expires, issued_bits = parts[0], int(parts[1]), int(parts[2])
    if expires < clock.now().timestamp():
        raise ChallengeFailed(
            "验证题目已过期", errors=[FieldError("public.challenge_failed", "challenge", "验证题目已过期")]
        )
    if issued_bits < bits or not solves(challenge, nonce, issued_bits):
        raise ChallengeFailed(
            "验证答案不正确", errors=[FieldError("public.challenge_failed", "nonce", "验证答案不正确")]
        )
    return challenge_id, datetime.fromtimestamp(expires, timezone.utc)


def spend(session: Session, clock: Clock, challenge_id: str, expires_at: datetime) -> None:
    """Mark the challenge used (ChallengeUsed if it was); spent ones past their expiry are forgotten,
    since their signature no longer passes anyway."""
    session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < clock.now()))
    inserted = session.scalar(
        pg_insert(SpentChallenge)
        .values(id=challenge_id, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(SpentChallenge.id)
    )
    if inserted is None:
        raise ChallengeUsed()
