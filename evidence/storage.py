"""Photo bytes, content-addressed by SHA-256: originals, thumbnails and the parts of
resumable uploads (SYNC_PROTOCOL.md §4).

Two stores share one interface (PhotoStore): FilesystemStore and S3Store. Nothing
ever appears under its final name half-written. Partial uploads always live on local
disk (PartialUploads); the S3 store uploads a photo only once it is complete.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Literal, Mapping, Protocol, Union, runtime_checkable

from core.errors import Conflict, NotFound, ValidationFailed

__all__ = [
    "ClaimedPart",
    "FilesystemStore",
    "HashMismatch",
    "InvalidSha",
    "Kind",
    "PartIncomplete",
    "PartialUploads",
    "PhotoNotFound",
    "PhotoStore",
    "RangeGap",
    "RangeInvalid",
    "S3Store",
    "check_sha",
    "make_store",
]

Kind = Literal["original", "thumb"]
KINDS: tuple[Kind, ...] = ("original", "thumb")
# bytes, a path, or a readable binary file object (e.g. a spooled request body).
Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


class PhotoNotFound(NotFound):
    code = "photo.not_found"
    title = "照片不存在"


class InvalidSha(ValidationFailed):
    code = "photo.invalid_sha256"
    title = "照片名称必须是 64 位小写十六进制 SHA-256"


class HashMismatch(ValidationFailed):
    code = "photo.hash_mismatch"
    title = "照片内容与其 SHA-256 名称不符"


class RangeInvalid(ValidationFailed):
    code = "photo.range_invalid"
    title = "分段上传的范围无效"


class RangeGap(Conflict):
    """A part starts past what the server holds; ``extra["received"]`` says where to resume.
    409 like tus' offset mismatch: the client's view of the upload is stale."""

    code = "photo.range_gap"
    title = "分段上传不连续，请从服务器已收到的位置继续"


class PartIncomplete(Conflict):
    code = "photo.incomplete"
    title = "照片尚未上传完整"


def check_sha(sha: str) -> str:
    # Also what keeps a crafted name from walking out of the store's folders.
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise InvalidSha(extra={"sha256": str(sha)[:80]})
    return sha


@runtime_checkable
class PhotoStore(Protocol):
    """Where photo bytes live. ``kind`` is "original" (named by the SHA-256 of its own
    bytes, checked on put) or "thumb" (named by its original's SHA-256)."""

    def has(self, sha: str, kind: Kind = "original") -> bool: ...

    def put(self, sha: str, src: Source, kind: Kind = "original", *, move: bool = False) -> bool:
        """Store atomically. False when already held (nothing written). ``move=True``
        with a path hands the file over (e.g. from take_part): renamed, not copied,
        where possible."""

    def open(self, sha: str, kind: Kind = "original") -> BinaryIO: ...

    def read(self, sha: str, kind: Kind = "original") -> bytes: ...

    def size(self, sha: str, kind: Kind = "original") -> int: ...

    def delete(self, sha: str, kind: Kind | None = None) -> None:
        """Idempotent. ``kind=None`` removes the original, its thumbnail and any part."""

    def append_part(self, sha: str, offset: int, data: bytes, total: int) -> int:
        """Write one part of a resumable upload; returns the bytes received so far."""

    def received(self, sha: str) -> int | None: ...

    def take_part(self, sha: str) -> ClaimedPart:
        """Claim a complete upload's file: ``with store.take_part(sha) as path:`` the caller puts it
        (move=True) inside the block."""

    def discard_part(self, sha: str) -> None: ...

    def purge_partials(self, older_than_seconds: float) -> int: ...

    @property
    def staging_dir(self) -> Path:
        """Local folder for bytes still arriving (created when missing); ``*.tmp`` files
        left there by a crash are removed by purge_partials."""


# --------------------------------------------------------------------------- helpers


def _fsync_dir(directory: Path) -> None:
    # A rename or a new entry is durable only once its directory is on disk.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(directory: Path) -> None:
    if directory.is_dir():
        return
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    directory.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        _fsync_dir(created.parent)


def _is_path(src: Any) -> bool:
    return isinstance(src, (str, os.PathLike))


def _chunks(src: Source) -> Iterator[bytes]:
    if isinstance(src, (bytes, bytearray, memoryview)):
        yield bytes(src)
    elif _is_path(src):
        with open(src, "rb") as fh:
            while block := fh.read(_CHUNK):
                yield block
    else:
        while block := src.read(_CHUNK):
            yield block


def sha256_of_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks (the one place a stored or staged file is hashed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_digest(sha: str, actual: str) -> None:
    if actual != sha:
        raise HashMismatch(f"内容的 SHA-256 为 {actual}，与名称 {sha} 不符", extra={"expected": sha, "actual": actual})


@contextmanager
def _locked_unless_held(path: Path) -> Iterator[int | None]:
    """The file open with its exclusive lock, taken without waiting; None when the file is gone
    or someone holds the lock."""
    try:
        fd: int | None = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        fd = None
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                fd = None
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


# --------------------------------------------------------------------------- partial uploads


class ClaimedPart:
    """A complete upload's file claimed to be stored (``PartialUploads.take``); ``with`` it yields the
    path. The claim holds the part's lock until it is closed, and closing removes whatever the holder
    left of the file: a claimed file outlives its claim only when the claimant died."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


class PartialUploads:
    """Parts of resumable uploads, in one local folder.

    ``<sha>.part`` holds the bytes received so far (its size is the received count,
    since gaps are refused) and ``<sha>.total`` the announced total. Writers take an
    exclusive flock on the part file, so concurrent requests (threads or processes on
    this host) for one sha take turns. With several API hosts, either route a sha's
    parts to one host or put this folder on shared storage that supports flock.

    A complete part is claimed by renaming it ``<sha>.<random>.taken`` under its lock,
    which the claim keeps until the photo is stored. The kernel drops the lock of a
    process that dies, so a ``.taken`` file whose lock is free was left by a worker
    killed while completing the upload: the next upload of that photo takes it back as
    its part (``append``) or, once the photo is stored, clears it (``discard``).
    """

    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)

    def _part(self, sha: str) -> Path:
        return self.dir / f"{sha}.part"

    def _total_path(self, sha: str) -> Path:
        return self.dir / f"{sha}.total"

    @contextmanager
    def _locked(self, sha: str, *, create: bool) -> Iterator[tuple[int, bool] | None]:
        """Yield (fd, created) with an exclusive lock held, or None when there is no part.

        Between open() and flock() another request may have taken or discarded the
        file; holding a lock on a file no longer under the name would guard nothing,
        so check the inode after locking and start again if it changed."""
        path = self._part(check_sha(sha))
        if create:
            _ensure_dir(self.dir)
        while True:
            created = False
            try:
                if create:
                    try:
                        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                        created = True
                    except FileExistsError:
                        fd = os.open(path, os.O_RDWR)
                else:
                    fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                if create:
                    # Removed between the two opens (or the folder was swept): again.
                    _ensure_dir(self.dir)
                    continue
                yield None
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    continue  # the finally below closes fd
                yield fd, created
                return
            finally:
                os.close(fd)

    def _read_total(self, sha: str) -> int | None:
        try:
            return int(self._total_path(sha).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _write_total(self, sha: str, total: int) -> None:
        tmp = self.dir / f".{sha}.{secrets.token_hex(8)}.tmp"
        tmp.write_text(str(total))
        os.replace(tmp, self._total_path(sha))

    def _abandoned(self, sha: str) -> Iterator[tuple[Path, int]]:
        """Each claimed file of ``sha`` whose claimant died, with its lock held (and still under
        its name) while the caller deals with it."""
        if not self.dir.is_dir():
            return
        for taken in list(self.dir.glob(f"{check_sha(sha)}.*.taken")):
            # Held: its claimant is alive, storing the photo right now.
            with _locked_unless_held(taken) as fd:
                if fd is None:
                    continue
                try:
                    still_there = os.stat(taken).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    still_there = False
                if still_there:  # not stored or cleared by someone else since the listing
                    yield taken, fd

    def _reclaim(self, sha: str, total: int) -> None:
        """Make the part of ``sha`` again from the file a dead worker had claimed: every byte of it
        arrived, so the phone's next part completes the upload at once. A file that cannot be this
        photo (another length, or bytes that do not hash to its name) is cleared instead."""
        for taken, fd in self._abandoned(sha):
            if os.fstat(fd).st_size == total and sha256_of_file(taken) == sha:
                try:
                    # A link, not a rename: it refuses to replace a part another upload has begun.
                    os.link(taken, self._part(sha))
                except FileExistsError:
                    pass
                else:
                    self._write_total(sha, total)
            taken.unlink()
            _fsync_dir(self.dir)

    def append(self, sha: str, offset: int, data: bytes, total: int) -> int:
        if total <= 0 or offset < 0 or not data or offset + len(data) > total:
            raise RangeInvalid(
                f"范围 {offset}+{len(data)} 不在 0..{total} 之内",
                extra={"offset": offset, "length": len(data), "total": total},
            )
        if not self._part(check_sha(sha)).exists():
            self._reclaim(sha, total)
        with self._locked(sha, create=True) as held:
            fd, created = held
            received = os.fstat(fd).st_size
            if offset > received and received == 0:
                # Nothing held: leave no empty part behind (HEAD would see an upload begun).
                self._part(sha).unlink(missing_ok=True)
                self._total_path(sha).unlink(missing_ok=True)
                raise RangeGap(
                    f"服务器尚未收到此照片的任何字节，本段从 {offset} 开始", extra={"received": 0, "total": total}
                )
            known_total = self._read_total(sha)
            if received == 0 or known_total is None:
                if known_total != total:
                    self._write_total(sha, total)
            elif known_total != total:
                raise RangeInvalid(
                    f"总长度 {total} 与已开始的上传（{known_total}）不一致",
                    extra={"total": known_total, "received": received},
                )
            if offset > received:
                raise RangeGap(
                    f"服务器已收到 {received} 字节，本段从 {offset} 开始", extra={"received": received, "total": total}
                )
            # A part seen twice rewrites the same bytes: harmless, and the hash check
            # when the upload completes catches any that differed.
            _write_all(fd, bytes(data), offset)
            # Durable before we tell the client what we hold (the 308 Range).
            os.fsync(fd)
            if created:
                _fsync_dir(self.dir)
            return max(received, offset + len(data))

    def received(self, sha: str) -> int | None:
        # Under the lock, so a part being written right now is not counted half-way.
        with self._locked(sha, create=False) as held:
            return None if held is None else os.fstat(held[0]).st_size

    def take(self, sha: str) -> ClaimedPart:
        with self._locked(sha, create=False) as held:
            if held is None:
                raise PhotoNotFound("没有此照片的分段上传", extra={"received": 0})
            fd, _ = held
            received = os.fstat(fd).st_size
            total = self._read_total(sha)
            if total is None or received != total:
                raise PartIncomplete(extra={"received": received, "total": total})
            # Renamed while locked: later parts for this sha start a new file, and the
            # caller owns a file nobody else writes to. The lock goes with the claim (a
            # duplicate of the descriptor shares it), so it is never free while the claimant lives.
            taken = self.dir / f"{sha}.{secrets.token_hex(8)}.taken"
            os.replace(self._part(sha), taken)
            self._total_path(sha).unlink(missing_ok=True)
            _fsync_dir(self.dir)
            return ClaimedPart(taken, os.dup(fd))

    def discard(self, sha: str) -> None:
        """Drop the part of ``sha`` and what dead workers claimed of it (the photo is stored)."""
        with self._locked(sha, create=False) as held:
            if held is not None:
                # Both under the lock: a new upload of this sha may start right after.
                self._part(sha).unlink(missing_ok=True)
                self._total_path(sha).unlink(missing_ok=True)
        for taken, _ in self._abandoned(sha):
            taken.unlink()

    def purge(self, older_than_seconds: float) -> int:
        """Remove abandoned uploads, claimed files and temp files not touched for a
        while (a scheduled job calls this); returns how many. Parts locked right now
        are left alone."""
        if not self.dir.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for entry in self.dir.iterdir():
            try:
                if entry.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if entry.suffix == ".part":
                with _locked_unless_held(entry) as fd:
                    if fd is None:
                        continue
                    entry.unlink(missing_ok=True)
                    (self.dir / (entry.stem + ".total")).unlink(missing_ok=True)
                removed += 1
            elif entry.suffix in (".taken", ".tmp", ".total"):
                if entry.suffix == ".total" and (self.dir / (entry.stem + ".part")).exists():
                    continue
                entry.unlink(missing_ok=True)
                removed += 1
        return removed


class _PartsMixin:
    """The partial-upload half of PhotoStore, delegated to a PartialUploads."""

    parts: PartialUploads

    def append_part(self, sha: str, offset: int, data: bytes, total: int) -> int:
        return self.parts.append(sha, offset, data, total)

    def received(self, sha: str) -> int | None:
        return self.parts.received(sha)

    def take_part(self, sha: str) -> ClaimedPart:
        return self.parts.take(sha)

    def discard_part(self, sha: str) -> None:
        self.parts.discard(sha)

    def purge_partials(self, older_than_seconds: float) -> int:
        return self.parts.purge(older_than_seconds)

    @property
    def staging_dir(self) -> Path:
        _ensure_dir(self.parts.dir)
        return self.parts.dir


# --------------------------------------------------------------------------- filesystem


class FilesystemStore(_PartsMixin):
    """root/originals/ab/cd/<sha>, root/thumbs/ab/cd/<sha>, root/partial/<sha>.part.

    Every write goes to a uniquely named temp file in the final folder, is flushed
    and fsynced, renamed over the final name (os.replace is atomic) and the folder is
    fsynced: after a crash a photo is either whole under its name or absent.
    Concurrent puts of one sha each write their own temp file; the last rename wins
    and, the content being identical, one correct copy remains.
    """

    _FOLDERS = {"original": "originals", "thumb": "thumbs"}

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.parts = PartialUploads(self.root / "partial")

    def path(self, sha: str, kind: Kind = "original") -> Path:
        """Where the file lives (or would); for serving with sendfile/X-Accel-Redirect."""
        check_sha(sha)
        return self.root / self._FOLDERS[kind] / sha[:2] / sha[2:4] / sha

    def has(self, sha: str, kind: Kind = "original") -> bool:
        return self.path(sha, kind).is_file()

    def put(self, sha: str, src: Source, kind: Kind = "original", *, move: bool = False) -> bool:
        final = self.path(sha, kind)
        # With move=True the handed-over file is consumed whatever happens.
        handed = Path(src) if move and _is_path(src) else None
        try:
            if final.is_file():
                return False
            _ensure_dir(final.parent)
            if handed is not None and self._move_into_place(sha, handed, final, kind):
                return True
            self._write_atomically(sha, src, final, kind)
            return True
        finally:
            if handed is not None:
                handed.unlink(missing_ok=True)

    def _write_atomically(self, sha: str, src: Source, final: Path, kind: Kind) -> None:
        # A unique temp name per writer: concurrent puts never write into one file.
        tmp = final.parent / f".{sha}.{secrets.token_hex(8)}.tmp"
        digest = hashlib.sha256()
        try:
            with open(tmp, "xb") as fh:
                for block in _chunks(src):
                    digest.update(block)
                    fh.write(block)
                fh.flush()
                os.fsync(fh.fileno())
            if kind == "original":
                _check_digest(sha, digest.hexdigest())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)

    def _move_into_place(self, sha: str, src: Path, final: Path, kind: Kind) -> bool:
        """Rename a handed-over file into place; False when it is on another filesystem."""
        if kind == "original":
            _check_digest(sha, sha256_of_file(src))
        fd = os.open(src, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(src, final)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return False
            raise
        _fsync_dir(final.parent)
        _fsync_dir(src.parent)
        return True

    def open(self, sha: str, kind: Kind = "original") -> BinaryIO:
        try:
            return open(self.path(sha, kind), "rb")
        except FileNotFoundError:
            raise PhotoNotFound(extra={"sha256": sha, "kind": kind}) from None

    def read(self, sha: str, kind: Kind = "original") -> bytes:
        with self.open(sha, kind) as fh:
            return fh.read()

    def size(self, sha: str, kind: Kind = "original") -> int:
        try:
            return self.path(sha, kind).stat().st_size
        except FileNotFoundError:
            raise PhotoNotFound(extra={"sha256": sha, "kind": kind}) from None

    def delete(self, sha: str, kind: Kind | None = None) -> None:
        for each in (kind,) if kind else KINDS:
            path = self.path(sha, each)
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            _fsync_dir(path.parent)
        if kind is None:
            self.discard_part(sha)


# --------------------------------------------------------------------------- S3


class S3Store(_PartsMixin):
    """Originals and thumbnails as objects ``<prefix>originals/<sha>`` and
    ``<prefix>thumbs/<sha>`` in an S3-compatible bucket (AWS, MinIO, OSS, OBS, COS...).

    An object becomes visible only when put_object completes, so atomicity comes
    free. Parts of resumable uploads stay on local disk in ``staging_dir`` and the
    photo is uploaded once complete (put(..., move=True) after take_part).
    """

    _FOLDERS = {"original": "originals", "thumb": "thumbs"}

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        staging_dir: str | os.PathLike[str],
        client: Any = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region_name: str | None = None,
        addressing_style: str | None = None,
    ):
        if not bucket:
            raise ValueError("S3Store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.parts = PartialUploads(staging_dir)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                s3={"addressing_style": addressing_style or "auto"},
                # botocore >= 1.36 adds CRC checksums to every request by default, which
                # many S3-compatible servers refuse; send them only where S3 requires.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"mode": "standard", "max_attempts": 5},
                connect_timeout=5,
                read_timeout=60,
            )
            # A session per store: boto3 clients are thread-safe, the default session is not.
            # Keys left out come from the usual AWS_* environment variables / files.
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region_name or None,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                config=config,
            )
        self.client = client

    def key(self, sha: str, kind: Kind = "original") -> str:
        return f"{self.prefix}{self._FOLDERS[kind]}/{check_sha(sha)}"

    @staticmethod
    def _missing(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in ("404", "NoSuchKey", "NotFound") or status == 404

    def _head(self, sha: str, kind: Kind) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha, kind))
        except Exception as exc:
            if self._missing(exc):
                return None
            raise

    def has(self, sha: str, kind: Kind = "original") -> bool:
        return self._head(sha, kind) is not None

    def put(self, sha: str, src: Source, kind: Kind = "original", *, move: bool = False) -> bool:
        key = self.key(sha, kind)
        moving = move and _is_path(src)
        try:
            if self.has(sha, kind):
                return False
            if isinstance(src, (bytes, bytearray, memoryview)):
                body: Any = bytes(src)
                if kind == "original":
                    _check_digest(sha, hashlib.sha256(body).hexdigest())
                self._put_object(key, body, kind)
            elif _is_path(src):
                if kind == "original":
                    _check_digest(sha, sha256_of_file(Path(src)))
                with open(src, "rb") as fh:
                    self._put_object(key, fh, kind)
            else:
                body = b"".join(_chunks(src))  # at most a photo (20 MiB): keep it simple
                if kind == "original":
                    _check_digest(sha, hashlib.sha256(body).hexdigest())
                self._put_object(key, body, kind)
            return True
        finally:
            if moving:
                Path(src).unlink(missing_ok=True)

    def _put_object(self, key: str, body: Any, kind: Kind) -> None:
        content_type = "image/jpeg" if kind == "thumb" else "application/octet-stream"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def open(self, sha: str, kind: Kind = "original") -> BinaryIO:
        """A streaming, not seekable, body."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(sha, kind))["Body"]
        except Exception as exc:
            if self._missing(exc):
                raise PhotoNotFound(extra={"sha256": sha, "kind": kind}) from None
            raise

    def read(self, sha: str, kind: Kind = "original") -> bytes:
        body = self.open(sha, kind)
        try:
            return body.read()
        finally:
            body.close()

    def size(self, sha: str, kind: Kind = "original") -> int:
        head = self._head(sha, kind)
        if head is None:
            raise PhotoNotFound(extra={"sha256": sha, "kind": kind})
        return int(head["ContentLength"])

    def delete(self, sha: str, kind: Kind | None = None) -> None:
        for each in (kind,) if kind else KINDS:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sha, each))
        if kind is None:
            self.discard_part(sha)


# --------------------------------------------------------------------------- factory


def make_store(settings: Mapping[str, Any] | Any) -> PhotoStore:
    """The store the settings name: ``photo_storage`` is "filesystem" or "s3".

    Reads photo_root (filesystem root; for S3 its ``partial`` folder stages parts
    unless photo_staging_dir is given), s3_bucket, s3_prefix, s3_endpoint_url and,
    when present, s3_region, s3_access_key_id, s3_secret_access_key,
    s3_addressing_style. Accepts a mapping or the Settings object itself.
    """

    def get(name: str, default: Any = None) -> Any:
        if isinstance(settings, Mapping):
            value = settings.get(name, default)
        else:
            value = getattr(settings, name, default)
        return default if value in (None, "") else value

    backend = get("photo_storage", "filesystem")
    root = Path(get("photo_root", "var/photos"))
    if backend == "filesystem":
        return FilesystemStore(root)
    if backend == "s3":
        return S3Store(
            get("s3_bucket"),
            get("s3_prefix", ""),
            staging_dir=get("photo_staging_dir", root / "partial"),
            endpoint_url=get("s3_endpoint_url"),
            region_name=get("s3_region"),
            access_key_id=get("s3_access_key_id"),
            secret_access_key=get("s3_secret_access_key"),
            addressing_style=get("s3_addressing_style"),
        )
    raise ValueError(f"photo_storage must be 'filesystem' or 's3', got {backend!r}")
