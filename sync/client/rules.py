"""What a phone may push, and rebasing a conflicting change on the server's ``current`` record.

The state machines are the contract's (SYNC_PROTOCOL.md §2, hazard transitions) and the task
statuses the server reports. A rebase replays the phone's intents, in the order they were recorded,
on ``current``: an intent still allowed from the state it meets gets that state's version as its
new ``base_version`` and goes again; one that no longer makes sense (the hazard was already ordered
by someone else) is left for the user, with ``current`` beside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# (entity, op) a phone may push.
OPS = {
    ("inspection", "create"),
    ("patrol", "create"),
    ("hazard", "create"),
    ("hazard", "transition"),
    ("task", "transition"),
    ("signature", "create"),
}


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change


TRANSITIONS = {
    "hazard": {
        "order": Rule(("reported",), "ordered"),
        "submit": Rule(("ordered",), "submitted"),
        "verify": Rule(("submitted",), "closed"),
        "reject": Rule(("submitted",), "ordered"),
        "supervise": Rule(("reported", "ordered", "submitted"), None),
        # Extensions (docs/sync.md, 自查自报自改): the enterprise's own fix, and the spot check of it.
        "self_fix": Rule(("reported",), "closed"),
        "spot_check": Rule(("closed",), None),
        "reopen": Rule(("closed",), "ordered"),
    },
    "task": {
        "accept": Rule(("open",), "accepted"),
        "complete": Rule(("open", "accepted"), "done"),
        "decline": Rule(("open", "accepted"), "declined"),
    },
}


def rule_for(entity: str, action: str | None) -> Rule | None:
    return TRANSITIONS.get(entity, {}).get(action or "")


def after(entity: str, record: dict, action: str | None, version: int | None) -> dict:
    """The record as the phone expects it after ``action`` was applied at ``version``."""
    out = dict(record)
    rule = rule_for(entity, action)
    if rule and rule.target:
        out["status"] = rule.target
    if entity == "hazard" and action == "supervise":
        out["supervised"] = True
    if entity == "hazard" and action in ("self_fix", "reopen"):
        out["self_fixed"] = action == "self_fix"
    if version is not None:
        out["version"] = version
    return out


@dataclass
class Rebased:
    seq: int
    base_version: int


@dataclass
class Stuck:
    seq: int
    reason: str


# Recheck decisions (复查: 销号 or 退回, and the spot check of a 自改) judge one submitted
# rectification: the one the inspector saw.
JUDGE_SUBMISSION = {("hazard", "verify"), ("hazard", "reject"), ("hazard", "spot_check"), ("hazard", "reopen")}


def _submission(record: dict | None) -> tuple | None:
    return (record.get("submitted_at"), record.get("submitted_by")) if record else None


def rebase(
    entity: str, current: dict, intents: list[tuple[int, str | None, dict | None]]
) -> tuple[list[Rebased], list[Stuck]]:
    """Replay ``intents`` — (seq, action, seen) of the queued transitions of one record, oldest first,
    ``seen`` being the record as the phone showed it when that one was recorded — on ``current``.
    Returns the new base versions and the intents that cannot be rebased.

    A recheck decision is moved only onto the rectification it judged: the one in its ``seen``, or the
    phone's own submission replayed before it. Not onto one submitted since (退回 and submitted again
    meanwhile), even when the phone has pulled that one by now: closing a hazard on evidence nobody
    looked at is what the closed loop exists to prevent."""
    status, version = current.get("status"), current.get("version")
    submission, own_submission = _submission(current), False
    rebased, stuck = [], []
    for seq, action, seen in intents:
        rule = rule_for(entity, action)
        if rule is None or version is None:
            stuck.append(Stuck(seq, f"无法对 {entity} 的 {action} 变基"))
        elif status not in rule.sources:
            stuck.append(Stuck(seq, f"服务器上的记录状态已是 {status}，不能再 {action}"))
        elif (entity, action) in JUDGE_SUBMISSION and not (own_submission or _submission(seen) == submission):
            stuck.append(Stuck(seq, "整改材料已重新提交，须查看新的整改情况后重新复查"))
        else:
            rebased.append(Rebased(seq, version))
            version += 1
            status = rule.target or status
            own_submission = own_submission or action == "submit"
    return rebased, stuck


def derived_hazard_ids(inspection_change: dict) -> list[str]:
    """Hazards an inspection raises, named as the server names them: uuid5(inspection id, item code)."""
    data = inspection_change.get("data") or {}
    return [
        str(uuid.uuid5(uuid.UUID(inspection_change["id"]), answer["item"]))
        for answer in data.get("answers") or []
        if answer.get("result") == "fail"
    ]


def photos_named(data: dict) -> list[str]:
    """Every photo a change's data names: its own, its answers' and its visits'."""
    photos = list(data.get("photos") or [])
    for part in (data.get("answers") or []) + (data.get("visits") or []):
        photos += part.get("photos") or []
    return list(dict.fromkeys(photos))
