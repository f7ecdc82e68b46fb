"""SyncClient: what a phone does, as a library (SYNC_PROTOCOL.md, implemented from the contract alone).

- ``record`` queues a change locally; nothing needs a network.
- ``push`` sends the queue in batches within the advertised limits. A batch's id and members are
  stored before it is first sent and re-sent unchanged until an answer is stored, so a lost answer
  or a crash never applies anything twice. ``retryable`` results stay queued; a ``conflict`` is
  rebased on ``current`` and goes again; final rejections are kept for the user.
- ``upload_photos`` asks HEAD what the server holds and PUTs the rest with Content-Range.
- ``pull`` follows the cursor to the end into the local copy (upserts, tombstones, reset)."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sync.client import rules
from sync.client.state import LocalState, QueuedChange
from sync.client.transport import (
    AuthRequired,
    HTTPProblem,
    RetryLater,
    SyncError,
    Transport,
    Unreachable,
    TransientFailure,
    expect,
)

CLIENT_VERSION = "1.0.0"
API = "/api/v1"

# Until the server has told us (GET /sync/config), the contract's own numbers.
DEFAULT_LIMITS = {
    "max_batch_changes": 1000,
    "max_batch_bytes": 8 * 1024 * 1024,
    "max_photo_bytes": 20 * 1024 * 1024,
    "photo_chunk_bytes": 1024 * 1024,
    "pull_limit_default": 500,
    "pull_limit_max": 2000,
}
# The limits are re-read at most this often (a weak connection should not pay a round trip per push).
CONFIG_MAX_AGE_SECONDS = 3600
# Room for the batch envelope (batch_id, sent_at) when fitting changes under max_batch_bytes.
ENVELOPE_BYTES = 256
# Batches this client forms at most, below the server's max_batch_changes: a server applies ≈ 50–90
# changes a second (docs/performance.md), so a 1,000-change batch takes 10–20 s alone and minutes
# when a township's phones push at once — close to the read timeout, and all of it sent again when
# the answer is lost. 100 keeps each answer within a few seconds.
BATCH_CHANGES = 100
# A change rebased this many times in one push waits for the next one (someone keeps changing the record).
MAX_REBASES_PER_PUSH = 3

_RANGE = re.compile(r"^\s*bytes=0-(\d+)\s*$")


class ProtocolError(SyncError):
    """The server answered something the contract does not allow (a bug on one side)."""


class NotLoggedIn(SyncError):
    pass


class _BatchRefused(Exception):
    """413: the batch was refused whole (nothing of it stored)."""


def _compact(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _sniff_mime(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp":
        return "image/heic"
    return "application/octet-stream"


@dataclass
class PushReport:
    """What one ``push`` did. Lists hold change summaries (seq, entity, op, id, action, result)."""

    batches: list[str] = field(default_factory=list)
    applied: list[dict] = field(default_factory=list)
    duplicate: list[dict] = field(default_factory=list)
    rebased: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    retryable: list[dict] = field(default_factory=list)
    missing_photos: list[str] = field(default_factory=list)
    photos: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class PullReport:
    pages: int = 0
    upserts: int = 0
    deletes: int = 0
    reset: bool = False
    changes: list[dict] = field(default_factory=list)  # (entity, op, id, version) of each change received
    gzip: bool = False

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class SyncClient:
    """One phone: a state file, a server, a logged-in user on a device.

    ``max_attempts``/``backoff``/``max_backoff``/``max_wait`` tune retries (see Transport);
    ``chunk_bytes`` caps photo parts below the server's ``photo_chunk_bytes``; ``batch_changes`` caps
    batches below the server's ``max_batch_changes``; ``now`` is the phone's clock (an aware
    datetime); ``sleep`` is how the client waits between attempts."""

    def __init__(
        self,
        state_path: str | Path,
        *,
        server_url: str | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_wait: float = 300.0,
        timeout: tuple[float, float] = (10.0, 120.0),
        chunk_bytes: int | None = None,
        batch_changes: int = BATCH_CHANGES,
        sleep=time.sleep,
        now=None,
    ):
        self.state = LocalState(state_path)
        if server_url:
            self.state.set("server_url", server_url.rstrip("/"))
        self.chunk_bytes = chunk_bytes
        self.batch_changes = batch_changes
        self.now = now or (lambda: datetime.now().astimezone())
        self.transport = Transport(
            self.state.get("server_url") or "",
            self.state.get("token"),
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            max_wait=max_wait,
            timeout=timeout,
            sleep=sleep,
        )

    def close(self) -> None:
        self.transport.http.close()
        self.state.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _now_iso(self) -> str:
        return self.now().isoformat(timespec="seconds")

    # ------------------------------------------------------------------ session

    @property
    def user(self) -> dict | None:
        return self.state.get("user")

    @property
    def device_id(self) -> str:
        device = self.state.get("device_id")
        if device is None:
            device = f"anxun-sync-{uuid.uuid4()}"
            self.state.set("device_id", device)
        return device

    def login(
        self,
        username: str,
        password: str,
        *,
        server_url: str | None = None,
        device_name: str = "anxun-sync",
        platform: str = "cli",
    ) -> dict:
        """Log in on this state file's device; returns the user. Another user may take over the
        state file only when nothing of the previous one is left to send."""
        if server_url:
            self.state.set("server_url", server_url.rstrip("/"))
            self.transport.base_url = server_url.rstrip("/")
        if not self.transport.base_url:
            raise SyncError("没有服务器地址：登录时给出 server_url")
        self.transport.token = None
        response = self.transport.request(
            "POST",
            f"{API}/auth/login",
            json_body={
                "username": username,
                "password": password,
                "device": {
                    "id": self.device_id,
                    "name": device_name,
                    "platform": platform,
                    "app_version": CLIENT_VERSION,
                },
            },
        )
        body = expect(response, 200).answer
        previous = self.user
        if previous and previous.get("id") != body["user"]["id"]:
            if self.state.changes("queued") or self.state.pending_batch():
                raise SyncError(f"{previous.get('username') or previous.get('id')} 还有未上传的记录，不能换用户登录")
            # Another user's view: their copy and cursor must not leak into this one's.
            with self.state.transaction():
                self.state.clear_records_tx()
                self.state.set("cursor", None)
        self.state.set("token", body["token"])
        self.state.set("token_expires_at", body.get("expires_at"))
        self.state.set("user", body["user"])
        self.state.set("device_id", body.get("device_id") or self.device_id)
        self.transport.token = body["token"]
        self.limits(refresh=True)
        return body["user"]

    def logout(self) -> None:
        if self.transport.token:
            try:
                self.transport.request("POST", f"{API}/auth/logout")
            except (Unreachable, RetryLater, AuthRequired):
                pass  # the token is forgotten here either way; a lost phone is revoked by the desk
        self.state.set("token", None)
        self.transport.token = None

    def _require_login(self) -> None:
        if not self.transport.token or not self.transport.base_url:
            raise NotLoggedIn("尚未登录：先 login")

    def limits(self, *, refresh: bool = False, network: bool = True) -> dict:
        """The server's advertised limits (GET /sync/config), re-read when older than an hour
        (``network=False``: what is known, without asking)."""
        cached = self.state.get("config")
        fresh = cached and time.time() - cached.get("_fetched", 0) < CONFIG_MAX_AGE_SECONDS
        if network and (refresh or not fresh) and self.transport.token:
            try:
                config = expect(self.transport.request("GET", f"{API}/sync/config"), 200).answer
                config["_fetched"] = time.time()
                self.state.set("config", config)
                cached = config
            except (Unreachable, RetryLater):
                if cached is None and refresh:
                    raise
        return DEFAULT_LIMITS | {k: v for k, v in (cached or {}).items() if k in DEFAULT_LIMITS}

    # ------------------------------------------------------------------ recording (offline)

    def record(self, change: dict, *, photos: list[str | Path] = ()) -> QueuedChange:
        """Queue one change (as the protocol writes it). ``id`` of a create, ``recorded_at`` and a
        transition's ``base_version`` are filled in when missing; ``photos`` are files to upload."""
        entity, op, data = change.get("entity"), change.get("op"), change.get("data")
        if (entity, op) not in rules.OPS:
            raise ValueError(f"不能推送 {entity} {op}")
        if not isinstance(data, dict):
            raise ValueError("data 必须是对象")
        if op == "transition" and rules.rule_for(entity, data.get("action")) is None:
            raise ValueError(f"{entity} 没有 {data.get('action')} 操作")
        record_id = change.get("id") or (str(uuid.uuid4()) if op == "create" else None)
        if record_id is None:
            raise ValueError("流转必须给出记录 id")
        record_id = str(uuid.UUID(str(record_id)))
        for path in photos:
            self.add_photo(path)
        with self.state.transaction():
            base_version = change.get("base_version")
            if op == "transition" and base_version is None:
                base_version = self._next_base_version(entity, record_id)
            # What the user looked at when deciding: a rebase must not carry the decision onto another state.
            seen = self.state.record(entity, record_id) if op == "transition" else None
            return self.state.add_change(
                entity, op, record_id, base_version, change.get("recorded_at") or self._now_iso(), data, seen=seen
            )

    def _next_base_version(self, entity: str, record_id: str) -> int:
        """The version the record will have when this transition reaches the server: after the
        transitions of it still queued, or as the local copy has it."""
        queued = [c for c in self.state.changes("queued", key=(entity, record_id)) if c.op == "transition"]
        if queued and queued[-1].base_version is not None:
            return queued[-1].base_version + 1
        local = self.state.record(entity, record_id)
        if local is not None and local.get("version") is not None:
            return int(local["version"])
        if entity == "hazard":
            for c in self.state.changes("queued"):
                if (c.entity, c.op, c.id) == ("hazard", "create", record_id) or (
                    c.entity == "inspection" and record_id in rules.derived_hazard_ids(c.wire())
                ):
                    return 1
        raise ValueError(f"不知道 {entity} {record_id} 的版本：先 pull，或在变更里写明 base_version")

    def add_photo(self, path: str | Path) -> str:
        """Register a photo file for upload; returns its SHA-256 (the name changes use)."""
        path = Path(path).resolve()
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as fh:
            while block := fh.read(1024 * 1024):
                digest.update(block)
                size += len(block)
        limit = self.limits(network=False)["max_photo_bytes"]
        if size > limit:
            raise ValueError(f"{path} 有 {size} 字节，超过服务器上限 {limit}")
        if size == 0:
            raise ValueError(f"{path} 是空文件")
        sha = digest.hexdigest()
        self.state.add_photo(sha, str(path), size)
        return sha

    def discard(self, seq: int) -> None:
        """Drop a change the user gave up on (typically a conflict or a rejection)."""
        change = self.state.change(seq)
        if change is None:
            raise ValueError(f"没有编号 {seq} 的变更")
        if change.batch_id:
            raise SyncError("此变更在一个已发出的批次里，须等到批次有了答复")
        with self.state.transaction():
            self.state.remove_change_tx(seq)

    # ------------------------------------------------------------------ push

    def push(self, *, photos: bool = True) -> PushReport:
        """Send everything queued (and then the photos). Raises Unreachable / RetryLater when the
        server cannot be reached: the batch in flight keeps its id and goes again next time."""
        self._require_login()
        limits = self.limits()
        max_changes, max_bytes = min(limits["max_batch_changes"], self.batch_changes), limits["max_batch_bytes"]
        report = PushReport()
        held_back: set[int] = set()  # retryable, or rebased too often: next push
        rebases: Counter = Counter()
        while True:
            batch_id = self.state.pending_batch()
            if batch_id is None:
                queue = [c for c in self.state.changes("queued") if c.seq not in held_back]
                if not queue:
                    break
                chosen = self._fit(queue, max_changes, max_bytes, report)
                if not chosen:
                    continue
                batch_id = str(uuid.uuid4())
                self.state.open_batch(batch_id, [c.seq for c in chosen], self._now_iso())
            members = self.state.changes(batch_id=batch_id)
            if not members:
                with self.state.transaction():
                    self.state.close_batch_tx(batch_id, None)
                continue
            try:
                answer = self._send_batch(batch_id, members)
            except _BatchRefused:
                # Nothing of it was stored: form smaller batches (the limits may have shrunk).
                with self.state.transaction():
                    self.state.close_batch_tx(batch_id, None)
                limits = self.limits(refresh=True)
                max_bytes = limits["max_batch_bytes"]
                max_changes = min(limits["max_batch_changes"], self.batch_changes, max(1, len(members) // 2))
                if len(members) == 1:
                    self._reject_locally(members[0], "sync.batch_too_large", "服务器拒收此条变更（过大）", report)
                continue
            report.batches.append(batch_id)
            outcome = self._apply_answer(batch_id, members, answer)
            for name in ("applied", "duplicate", "rebased", "conflicts", "rejected", "retryable"):
                getattr(report, name).extend(outcome[name])
            report.missing_photos = answer.get("missing_photos") or []
            held_back |= {c["seq"] for c in outcome["retryable"]}
            for c in outcome["rebased"]:
                rebases[c["seq"]] += 1
                if rebases[c["seq"]] >= MAX_REBASES_PER_PUSH:
                    held_back.add(c["seq"])
        if photos:
            try:
                report.photos = self.upload_photos()
            except (Unreachable, RetryLater) as err:
                report.photos = {"error": str(err)}
        return report

    def _fit(
        self, queue: list[QueuedChange], max_changes: int, max_bytes: int, report: PushReport
    ) -> list[QueuedChange]:
        """The first queued changes that fit in one batch, in the order they were recorded."""
        chosen, size = [], ENVELOPE_BYTES
        for change in queue:
            n = len(_compact(change.wire())) + 1
            if n + ENVELOPE_BYTES > max_bytes:
                self._reject_locally(change, "sync.batch_too_large", "此条变更超过服务器的批次上限", report)
                continue
            if len(chosen) >= max_changes or size + n > max_bytes:
                break
            chosen.append(change)
            size += n
        return chosen

    def _reject_locally(self, change: QueuedChange, code: str, message: str, report: PushReport) -> None:
        result = {
            "status": "rejected",
            "retryable": False,
            "code": code,
            "errors": [{"code": code, "field": None, "message": message}],
            "local": True,
        }
        with self.state.transaction():
            self.state.update_change_tx(change.seq, state="rejected", result=result)
        report.rejected.append(change.summary() | {"state": "rejected", "result": result})

    def _send_batch(self, batch_id: str, members: list[QueuedChange]) -> dict:
        # sent_at is the clock of this attempt: the skew is measured against when it was sent.
        body = {"batch_id": batch_id, "sent_at": self._now_iso(), "changes": [c.wire() for c in members]}
        self.state.count_send(batch_id)
        response = self.transport.request("POST", f"{API}/sync/push", json_body=body, compress=True)
        if response.status_code == 413:
            raise _BatchRefused()
        answer = expect(response, 200).answer
        results = answer.get("results")
        if answer.get("batch_id") != batch_id or not isinstance(results, list) or len(results) != len(members):
            raise ProtocolError(f"批次 {batch_id} 的答复与所发不符")
        for change, result in zip(members, results):
            if result.get("id") != change.id:
                raise ProtocolError(f"批次 {batch_id} 的结果顺序与变更不符：{result.get('id')} ≠ {change.id}")
        return answer

    def _apply_answer(self, batch_id: str, members: list[QueuedChange], answer: dict) -> dict:
        """Apply a batch's answer to the queue and the local copy, in one transaction."""
        outcome = {name: [] for name in ("applied", "duplicate", "rebased", "conflicts", "rejected", "retryable")}
        conflicts: dict[tuple[str, str], int] = {}  # record -> index of its last conflict in the batch
        results = answer["results"]
        with self.state.transaction():
            for index, (change, result) in enumerate(zip(members, results)):
                status = result.get("status")
                summary = change.summary() | {"result": result}
                if status in ("applied", "duplicate"):
                    self.state.remove_change_tx(change.seq)
                    self._learn_tx(change, result)
                    outcome[status].append(summary | {"state": status})
                elif status == "conflict" and change.op == "transition" and result.get("current"):
                    conflicts[change.key] = index
                    self.state.update_change_tx(change.seq, attempts=change.attempts + 1, result=result)
                elif status in ("rejected", "conflict") and result.get("retryable"):
                    self.state.update_change_tx(change.seq, attempts=change.attempts + 1, result=result)
                    outcome["retryable"].append(summary)
                else:  # final: the user must change it
                    state = "conflict" if status == "conflict" else "rejected"
                    self.state.update_change_tx(change.seq, state=state, attempts=change.attempts + 1, result=result)
                    outcome["conflicts" if state == "conflict" else "rejected"].append(summary | {"state": state})
            conflicting = {members[i].seq for i, r in enumerate(results) if r.get("status") == "conflict"}
            for key, index in conflicts.items():
                self._rebase_tx(key, index, members, results, outcome, conflicting)
            self.state.set("missing_photos", answer.get("missing_photos") or [])
            self.state.set("clock_skew_seconds", answer.get("clock_skew_seconds"))
            self.state.set("last_push", {"batch_id": batch_id, "server_time": answer.get("server_time")})
            self.state.close_batch_tx(batch_id, answer)
        return outcome

    def _rebase_tx(
        self, key, index: int, members: list[QueuedChange], results: list[dict], outcome: dict, conflicting: set[int]
    ) -> None:
        """Rebase the record's queued transitions on the ``current`` of its last conflict, moved on by
        what of this batch was applied to it after that conflict."""
        entity, record_id = key
        conflict = results[index]
        current = dict(conflict["current"])
        current.setdefault("version", conflict.get("version"))
        for change, result in zip(members[index + 1 :], results[index + 1 :]):
            if change.key == key and change.op == "transition" and result.get("status") == "applied":
                current = rules.after(entity, current, change.data.get("action"), result.get("version"))
        copy = self.state.record(entity, record_id)
        if (
            not self.state.put_record_tx(entity, record_id, current.get("version"), current, pulled=False)
            and copy is not None
        ):
            current = copy  # the copy is newer than this answer (a stored one, replayed late): rebase on it
        queued = [c for c in self.state.changes("queued", key=key) if c.op == "transition"]
        rebased, stuck = rules.rebase(entity, current, [(c.seq, c.data.get("action"), c.seen) for c in queued])
        by_seq = {c.seq: c for c in queued}
        for item in rebased:
            change = by_seq[item.seq]
            if change.base_version == item.base_version:
                if change.seq in conflicting:
                    # Refused at the very version it would go again with: sending it unchanged cannot help.
                    stuck.append(rules.Stuck(change.seq, "服务器在当前版本上也拒绝了此操作"))
                continue  # otherwise already right (recorded after the phone saw the new version)
            self.state.update_change_tx(item.seq, base_version=item.base_version, rebased=change.rebased + 1)
            outcome["rebased"].append(
                change.summary() | {"base_version": item.base_version, "previous_base_version": change.base_version}
            )
        for item in stuck:
            change = by_seq[item.seq]
            result = (change.result or conflict) | {"reason": item.reason, "current": current}
            self.state.update_change_tx(item.seq, state="conflict", result=result)
            outcome["conflicts"].append(change.summary() | {"state": "conflict", "result": result})

    def _learn_tx(self, change: QueuedChange, result: dict) -> None:
        """Keep the local copy in step with what the server just accepted (a pull later overwrites it);
        an answer older than the copy, or about a record the pull has since deleted, changes nothing."""
        version = result.get("version")
        if change.op == "transition":
            local = self.state.record(change.entity, change.id)
            if local is not None:
                self.state.put_record_tx(
                    change.entity,
                    change.id,
                    version,
                    rules.after(change.entity, local, change.data.get("action"), version),
                    pulled=False,
                )
        elif change.entity == "hazard":
            self.state.put_record_tx(
                "hazard",
                change.id,
                version,
                change.data
                | {"id": change.id, "status": "reported", "version": version, "overdue": False, "supervised": False},
                pulled=False,
            )
        for derived in result.get("derived") or []:
            self.state.put_record_tx(
                derived["entity"],
                derived["id"],
                1,
                {"id": derived["id"], "status": "reported", "version": 1, "inspection_id": change.id},
                pulled=False,
            )

    # ------------------------------------------------------------------ photos

    def upload_photos(self) -> dict:
        """Upload every registered photo the server does not hold yet. Raises Unreachable /
        RetryLater when the server cannot be reached (what arrived so far stays on the server)."""
        self._require_login()
        report = {"uploaded": [], "already_held": [], "failed": []}
        chunk = self.limits()["photo_chunk_bytes"]
        if self.chunk_bytes:
            chunk = min(chunk, self.chunk_bytes)
        for photo in self.state.photos("pending"):
            try:
                created = self._upload_photo(photo, chunk)
            except HTTPProblem as err:
                if isinstance(err, AuthRequired):
                    raise
                self.state.update_photo(photo["sha256"], state="failed", error=f"{err.status} {err.code}")
                report["failed"].append({"sha256": photo["sha256"], "status": err.status, "code": err.code})
                continue
            except OSError as err:
                self.state.update_photo(photo["sha256"], state="failed", error=str(err))
                report["failed"].append({"sha256": photo["sha256"], "error": str(err)})
                continue
            report["uploaded" if created else "already_held"].append(photo["sha256"])
        return report

    def _upload_photo(self, photo: dict, chunk: int) -> bool:
        """HEAD, then PUT from where the server is, part by part. True when this upload stored it."""
        sha, size, transport = photo["sha256"], photo["size"], self.transport
        path = f"{API}/photos/{sha}"
        with open(photo["path"], "rb") as fh:
            mime = _sniff_mime(fh.read(16))
            failures, offset = 0, None
            while True:
                try:
                    offset = self._photo_offset(path)
                    if offset is None:
                        self.state.update_photo(sha, state="held", sent_bytes=size, error=None)
                        return False
                    while True:
                        fh.seek(offset)
                        part = fh.read(chunk)
                        end = offset + len(part) - 1
                        response = transport.send(
                            "PUT",
                            path,
                            data=part,
                            headers={"Content-Type": mime, "Content-Range": f"bytes {offset}-{end}/{size}"},
                        )
                        if response.status_code in (200, 201):
                            self.state.update_photo(sha, state="held", sent_bytes=size, error=None)
                            return response.status_code == 201
                        if response.status_code == 308:
                            received = self._range_end(response)
                            if received <= offset:
                                # The server lost what it had (its partials were swept): ask HEAD again.
                                raise TransientFailure(f"no progress past {received}", None, response)
                            offset = received
                            failures = 0  # progress: a fresh set of attempts for what is left
                            self.state.update_photo(sha, sent_bytes=offset)
                            continue
                        if response.status_code == 409:
                            # A gap (our idea of the upload is stale) or another upload completing it: ask again.
                            raise TransientFailure("409", None, response)
                        expect(response)  # raises: every answer that makes sense was handled above
                except TransientFailure as retry:
                    failures += 1
                    if failures >= transport.max_attempts:
                        raise transport.give_up(retry) from None
                    transport.wait(failures - 1, retry)

    def _photo_offset(self, path: str) -> int | None:
        """None when the server holds the photo, else how many bytes of it it has."""
        response = self.transport.send("HEAD", path)
        if response.status_code == 200:
            return None
        if response.status_code == 404:
            return 0
        if response.status_code == 308:
            return self._range_end(response)
        expect(response, 200)
        raise ProtocolError(f"HEAD {path}: {response.status_code}")

    @staticmethod
    def _range_end(response) -> int:
        """Bytes held according to ``Range: bytes=0-<last>``. A 308 without it broke off inside its
        headers (the contract always sends it): it says nothing, ask again."""
        match = _RANGE.match(response.headers.get("Range", ""))
        if not match:
            raise TransientFailure(f"308 without a usable Range header: {response.headers.get('Range')!r}")
        return int(match.group(1)) + 1

    # ------------------------------------------------------------------ pull

    def pull(self, *, limit: int | None = None) -> PullReport:
        """Follow the cursor until ``has_more`` is false; each page and the cursor after it are
        stored together, so an interrupted pull resumes where it stopped."""
        self._require_login()
        limits = self.limits()
        limit = min(limit or limits["pull_limit_default"], limits["pull_limit_max"])
        report = PullReport()
        while True:
            params = {"limit": limit}
            cursor = self.state.get("cursor")
            if cursor:
                params["cursor"] = cursor
            response = self.transport.request(
                "GET", f"{API}/sync/pull", params=params, headers={"Accept-Encoding": "gzip"}
            )
            page = expect(response, 200).answer
            report.gzip = report.gzip or response.headers.get("Content-Encoding") == "gzip"
            with self.state.transaction():
                if page.get("reset") or not cursor:
                    # Without a cursor, or when the server cannot go on from ours, this page starts a
                    # full snapshot: records deleted before it do not come as tombstones.
                    self.state.clear_records_tx()
                    report.reset = report.reset or bool(page.get("reset"))
                for change in page.get("changes") or []:
                    entity, record_id, version = change["entity"], str(change["id"]), change.get("version")
                    if change["op"] == "delete":
                        self.state.delete_record_tx(entity, record_id, version)
                        report.deletes += 1
                    else:
                        self.state.put_record_tx(entity, record_id, version, change.get("data") or {})
                        report.upserts += 1
                    report.changes.append({"entity": entity, "op": change["op"], "id": record_id, "version": version})
                self.state.set("cursor", page["cursor"])
            report.pages += 1
            if not page.get("has_more"):
                break
        self.state.set("pulled_at", self._now_iso())
        return report

    def sync(self) -> dict:
        """Push, then pull: what a phone does when it finds signal."""
        pushed = self.push()
        pulled = self.pull()
        return {"push": pushed.as_dict(), "pull": pulled.as_dict()}

    # ------------------------------------------------------------------ reading the local state

    def record_of(self, entity: str, record_id: str) -> dict | None:
        return self.state.record(entity, str(record_id))

    def versions(self) -> dict[tuple[str, str], int | None]:
        """(entity, id) -> version of every record in the local copy: two copies of one user's view
        are equal when these are (a phone's, and a fresh full pull's)."""
        return self.state.versions()

    def ids(self, entity: str) -> set[str]:
        return {record_id for _, record_id in self.state.records(entity)}

    def queued(self) -> list[QueuedChange]:
        return self.state.changes("queued")

    def status(self) -> dict:
        photos = self.state.photos()
        return {
            "server": self.transport.base_url or None,
            "user": self.user,
            "device_id": self.state.get("device_id"),
            "logged_in": bool(self.transport.token),
            "queued": len(self.state.changes("queued")),
            "batch_in_flight": self.state.pending_batch(),
            "waiting": [c.summary() for c in self.state.changes("queued") if c.result],
            "conflicts": [c.summary() for c in self.state.changes("conflict")],
            "rejected": [c.summary() for c in self.state.changes("rejected")],
            "photos": {state: sum(1 for p in photos if p["state"] == state) for state in ("pending", "held", "failed")},
            "photos_failed": [
                {"sha256": p["sha256"], "path": p["path"], "error": p["error"]}
                for p in photos
                if p["state"] == "failed"
            ],
            "missing_photos": self.state.get("missing_photos", []),
            "records": self.state.record_counts(),
            "pulled_at": self.state.get("pulled_at"),
            "clock_skew_seconds": self.state.get("clock_skew_seconds"),
        }
