"""evidence.storage: the filesystem store on a real temp folder; the S3 store only
when a test S3 endpoint is configured."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.errors import Conflict, NotFound, ValidationFailed
from evidence.storage import (
    FilesystemStore,
    HashMismatch,
    InvalidSha,
    PartIncomplete,
    PhotoNotFound,
    PhotoStore,
    RangeGap,
    RangeInvalid,
    S3Store,
    make_store,
)
from tests.evidence import images
from tests.evidence.uploads import sha_of

REPO = Path(__file__).resolve().parents[2]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "photos")


@pytest.fixture(scope="module")
def photo() -> bytes:
    return images.jpeg((640, 480), images.make_exif())


# --------------------------------------------------------------------------- originals and thumbs


def test_put_has_read_size_delete(store, photo):
    sha = sha_of(photo)
    assert isinstance(store, PhotoStore)
    assert not store.has(sha)
    assert store.put(sha, photo) is True
    assert store.has(sha)
    assert store.read(sha) == photo
    assert store.size(sha) == len(photo)
    with store.open(sha) as fh:
        assert fh.read() == photo
    assert store.path(sha) == store.root / "originals" / sha[:2] / sha[2:4] / sha

    store.delete(sha)
    assert not store.has(sha)
    store.delete(sha)  # idempotent
    with pytest.raises(PhotoNotFound) as caught:
        store.read(sha)
    assert isinstance(caught.value, NotFound) and caught.value.code == "photo.not_found"
    with pytest.raises(PhotoNotFound):
        store.size(sha)


def test_thumbs_are_kept_apart_and_not_hash_checked(store, photo):
    sha = sha_of(photo)
    thumb = b"not the original's bytes"
    store.put(sha, photo)
    assert store.put(sha, thumb, "thumb") is True
    assert store.read(sha, "thumb") == thumb and store.read(sha) == photo
    assert store.path(sha, "thumb") == store.root / "thumbs" / sha[:2] / sha[2:4] / sha

    store.delete(sha, "thumb")
    assert store.has(sha) and not store.has(sha, "thumb")
    store.put(sha, thumb, "thumb")
    store.delete(sha)  # both
    assert not store.has(sha) and not store.has(sha, "thumb")


def test_put_from_path_and_file_object(store, photo, tmp_path):
    sha = sha_of(photo)
    src = tmp_path / "upload.jpg"
    src.write_bytes(photo)
    assert store.put(sha, src) is True
    assert src.exists()  # copied, not moved
    store.delete(sha)
    assert store.put(sha, io.BytesIO(photo)) is True
    assert store.read(sha) == photo


def test_hash_mismatch_refused_and_nothing_left(store, photo):
    wrong = sha_of(b"something else")
    with pytest.raises(HashMismatch) as caught:
        store.put(wrong, photo)
    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert (error.status, error.code) == (422, "photo.hash_mismatch")
    assert error.extra["actual"] == sha_of(photo)
    assert not store.has(wrong)
    assert files_under(store.root) == []


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "abc", "g" * 64, "0" * 63 + "/"])
def test_names_must_be_sha256(store, bad):
    with pytest.raises(InvalidSha):
        store.put(bad, b"x")
    with pytest.raises(InvalidSha):
        store.has(bad)


def test_same_sha_twice_keeps_one_file(store, photo):
    sha = sha_of(photo)
    assert store.put(sha, photo) is True
    assert store.put(sha, photo) is False  # already held: nothing written
    assert files_under(store.root) == [store.path(sha)]


def test_failed_write_leaves_nothing(store, photo):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def readable(self):
            return True

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 1:
                raise OSError("connection reset")
            return photo[: len(photo) // 2]

    with pytest.raises(OSError, match="connection reset"):
        store.put(sha_of(photo), Broken())
    assert not store.has(sha_of(photo))
    assert files_under(store.root) == []


def test_killed_writer_never_leaves_a_half_photo(store, photo, tmp_path):
    """kill -9 in the middle of put: the final name must not exist; at most a hidden temp."""
    sha = sha_of(photo)
    marker = tmp_path / "half-written"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from evidence.storage import FilesystemStore
        photo = open({str(tmp_path / "src.jpg")!r}, 'rb').read()

        class Slow:
            sent = False
            def read(self, size=-1):
                if self.sent:
                    open({str(marker)!r}, 'w').close()
                    time.sleep(60)
                self.sent = True
                return photo[:len(photo) // 2]

        FilesystemStore({str(store.root)!r}).put({sha!r}, Slow())
    """)
    (tmp_path / "src.jpg").write_bytes(photo)
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "writer exited early"
            assert time.monotonic() < deadline, "writer never got going"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert not store.has(sha)
    leftovers = files_under(store.root)
    assert leftovers and all(p.name.startswith(f".{sha}.") and p.suffix == ".tmp" for p in leftovers)
    # The next upload of the same photo is unaffected.
    assert store.put(sha, photo) is True and store.read(sha) == photo


def test_concurrent_puts_of_one_sha_end_with_one_copy(store, photo):
    sha = sha_of(photo)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def put():
        start.wait()
        try:
            store.put(sha, photo)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert files_under(store.root) == [store.path(sha)]
    assert store.read(sha) == photo


# --------------------------------------------------------------------------- resumable uploads


def test_append_parts_with_a_repeat_and_a_gap(store):
    data = os.urandom(2500)
    sha = sha_of(data)
    parts = [(0, data[:1000]), (1000, data[1000:2000]), (2000, data[2000:])]
    assert store.received(sha) is None

    assert store.append_part(sha, *parts[0], total=2500) == 1000
    assert store.append_part(sha, *parts[0], total=2500) == 1000  # arrived twice: harmless
    with pytest.raises(RangeGap) as caught:
        store.append_part(sha, *parts[2], total=2500)
    gap = caught.value
    assert isinstance(gap, Conflict)
    assert (gap.status, gap.code, gap.extra["received"]) == (409, "photo.range_gap", 1000)
    assert store.received(sha) == 1000  # the refused part changed nothing

    with pytest.raises(PartIncomplete) as caught:
        store.take_part(sha)
    assert caught.value.extra == {"received": 1000, "total": 2500}

    assert store.append_part(sha, *parts[1], total=2500) == 2000
    assert store.append_part(sha, 1500, data[1500:2200], total=2500) == 2200  # overlapping
    assert store.append_part(sha, *parts[2], total=2500) == 2500
    assert store.received(sha) == 2500

    with store.take_part(sha) as taken:
        assert taken.read_bytes() == data
        assert store.received(sha) is None  # claimed: a new upload would start afresh
        assert store.put(sha, taken, move=True) is True
        assert not taken.exists()
    assert store.read(sha) == data
    assert not any(store.parts.dir.iterdir())


def test_part_ranges_are_checked(store):
    sha = sha_of(b"x" * 100)
    with pytest.raises(RangeInvalid):
        store.append_part(sha, 90, b"y" * 20, total=100)  # past the end
    with pytest.raises(RangeInvalid):
        store.append_part(sha, 0, b"", total=100)
    with pytest.raises(RangeInvalid):
        store.append_part(sha, -1, b"y", total=100)
    store.append_part(sha, 0, b"x" * 10, total=100)
    with pytest.raises(RangeInvalid) as caught:
        store.append_part(sha, 10, b"x" * 10, total=200)  # the total changed mid-upload
    assert caught.value.code == "photo.range_invalid" and caught.value.status == 422
    with pytest.raises(InvalidSha):
        store.append_part("../x", 0, b"x", total=1)


def test_take_without_upload_and_discard(store):
    sha = sha_of(b"never sent")
    with pytest.raises(PhotoNotFound):
        store.take_part(sha)
    store.append_part(sha, 0, b"never", total=10)
    store.discard_part(sha)
    store.discard_part(sha)  # idempotent
    assert store.received(sha) is None
    assert store.append_part(sha, 0, b"ne", total=10) == 2  # starts again cleanly


def test_moved_part_with_wrong_hash_is_refused_and_consumed(store):
    data = b"a" * 300
    sha = sha_of(b"b" * 300)  # the client named it after other bytes
    store.append_part(sha, 0, data, total=300)
    with store.take_part(sha) as taken, pytest.raises(HashMismatch):
        store.put(sha, taken, move=True)
    assert not taken.exists() and not store.has(sha)


def test_concurrent_appends_end_with_one_correct_copy(store):
    data = os.urandom(64 * 1024)
    sha = sha_of(data)
    size = 4096
    total = len(data)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def uploader(seed: int):
        rng = random.Random(seed)
        start.wait()
        try:
            while True:
                received = store.received(sha) or 0
                if received >= total:
                    return
                # Mostly the next part, sometimes an old one again, sometimes one too far.
                offset = rng.choice([received, received, max(0, received - size), received + size])
                offset = min(offset - offset % size, total - 1)
                try:
                    store.append_part(sha, offset, data[offset : offset + size], total)
                except RangeGap as gap:
                    assert gap.extra["received"] <= offset
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=uploader, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.received(sha) == total
    with store.take_part(sha) as taken:
        store.put(sha, taken, move=True)
    assert store.read(sha) == data
    assert files_under(store.root) == [store.path(sha)]


def die_holding_the_claim(store: FilesystemStore, sha: str) -> None:
    """A worker that claimed the complete upload of ``sha`` to store it, killed (-9) right then: what
    it leaves behind is exactly what any worker killed while completing that upload leaves."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from evidence.storage import FilesystemStore
        claim = FilesystemStore({str(store.root)!r}).take_part({sha!r})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == -signal.SIGKILL
    assert [p.suffix for p in store.parts.dir.iterdir()] == [".taken"]


def test_an_upload_claimed_by_a_worker_that_died_is_completed_by_the_next_part(store):
    """The phone never heard back and starts the upload again: its first part finds the whole photo
    already there and completes it; nothing of the dead worker's claim is left."""
    data = os.urandom(3000)
    sha = sha_of(data)
    store.append_part(sha, 0, data, total=3000)
    die_holding_the_claim(store, sha)
    assert store.append_part(sha, 0, data[:1000], total=3000) == 3000
    with store.take_part(sha) as taken:
        assert store.put(sha, taken, move=True) is True
    assert store.read(sha) == data
    assert files_under(store.root) == [store.path(sha)]


def test_a_dead_workers_claim_that_cannot_be_the_photo_is_cleared(store):
    data = os.urandom(3000)
    sha = sha_of(data)
    store.append_part(sha, 0, os.urandom(3000), total=3000)  # bytes that do not hash to the name
    die_holding_the_claim(store, sha)
    assert store.append_part(sha, 0, data[:1000], total=3000) == 1000  # a fresh start
    assert sorted(p.name for p in store.parts.dir.iterdir()) == [f"{sha}.part", f"{sha}.total"]


def test_a_dead_workers_claim_is_cleared_when_the_photo_arrives_otherwise(store):
    data = os.urandom(3000)
    sha = sha_of(data)
    store.append_part(sha, 0, data, total=3000)
    die_holding_the_claim(store, sha)
    store.put(sha, data)  # a whole upload, not in parts
    store.discard_part(sha)  # what storing a photo ends with
    assert files_under(store.root) == [store.path(sha)]


def test_a_claim_whose_holder_is_alive_is_left_alone(store):
    """Two uploads of one photo: while one stores it, the other's parts start a file of their own,
    and nothing the other does touches the claimed file."""
    data = os.urandom(3000)
    sha = sha_of(data)
    store.append_part(sha, 0, data, total=3000)
    with store.take_part(sha) as taken:
        assert store.append_part(sha, 0, data[:1000], total=3000) == 1000
        store.discard_part(sha)
        assert store.append_part(sha, 0, data[:1000], total=3000) == 1000
        assert taken.read_bytes() == data
        store.put(sha, taken, move=True)
        store.discard_part(sha)
    assert store.read(sha) == data
    assert files_under(store.root) == [store.path(sha)]


def test_purge_partials_removes_only_stale_ones(store):
    old, fresh = sha_of(b"old"), sha_of(b"fresh")
    store.append_part(old, 0, b"ol", total=3)
    store.append_part(fresh, 0, b"fr", total=5)
    long_ago = time.time() - 3 * 86400
    for name in (f"{old}.part", f"{old}.total"):
        os.utime(store.parts.dir / name, (long_ago, long_ago))
    assert store.purge_partials(86400) == 1  # one abandoned upload (part and total)
    assert store.received(old) is None
    assert sorted(p.name for p in store.parts.dir.iterdir()) == [f"{fresh}.part", f"{fresh}.total"]
    assert store.received(fresh) == 2


# --------------------------------------------------------------------------- factory


def test_make_store_filesystem(tmp_path):
    chosen = make_store({"photo_storage": "filesystem", "photo_root": str(tmp_path / "p")})
    assert isinstance(chosen, FilesystemStore) and chosen.root == tmp_path / "p"


def test_make_store_s3_from_settings_object(tmp_path):
    # Building the client does not touch the network.
    settings = SimpleNamespace(
        photo_storage="s3",
        photo_root=str(tmp_path),
        s3_bucket="anxun",
        s3_prefix="photos/",
        s3_endpoint_url="http://127.0.0.1:9",
        s3_region="cn-north-1",
    )
    chosen = make_store(settings)
    assert isinstance(chosen, S3Store) and isinstance(chosen, PhotoStore)
    assert chosen.key("a" * 64) == "photos/originals/" + "a" * 64
    assert chosen.key("a" * 64, "thumb") == "photos/thumbs/" + "a" * 64
    assert chosen.parts.dir == tmp_path / "partial"


def test_make_store_unknown_backend():
    with pytest.raises(ValueError):
        make_store({"photo_storage": "ftp"})


# --------------------------------------------------------------------------- S3 (opt-in)

S3_ENDPOINT = os.environ.get("ANXUN_TEST_S3_ENDPOINT")


@pytest.fixture
def s3_store(tmp_path):
    store = S3Store(
        os.environ.get("ANXUN_TEST_S3_BUCKET", "anxun-test"),
        prefix=f"test-{uuid.uuid4().hex}/",
        staging_dir=tmp_path / "staging",
        endpoint_url=S3_ENDPOINT,
        access_key_id=os.environ.get("ANXUN_TEST_S3_ACCESS_KEY"),
        secret_access_key=os.environ.get("ANXUN_TEST_S3_SECRET_KEY"),
        region_name=os.environ.get("ANXUN_TEST_S3_REGION", "us-east-1"),
        addressing_style="path",
    )
    try:
        store.client.head_bucket(Bucket=store.bucket)
    except Exception:
        store.client.create_bucket(Bucket=store.bucket)
    return store


@pytest.mark.skipif(
    not S3_ENDPOINT,
    reason="set ANXUN_TEST_S3_ENDPOINT (and ANXUN_TEST_S3_BUCKET, "
    "ANXUN_TEST_S3_ACCESS_KEY, ANXUN_TEST_S3_SECRET_KEY) "
    "to test against an S3-compatible server, e.g. MinIO",
)
def test_s3_store_round_trip(s3_store, photo):
    sha = sha_of(photo)
    assert not s3_store.has(sha)
    assert s3_store.put(sha, photo) is True
    assert s3_store.put(sha, photo) is False
    assert s3_store.has(sha) and s3_store.size(sha) == len(photo)
    assert s3_store.read(sha) == photo
    s3_store.put(sha, b"thumb", "thumb")
    assert s3_store.read(sha, "thumb") == b"thumb"
    with pytest.raises(HashMismatch):
        s3_store.put(sha_of(b"other"), photo)

    s3_store.delete(sha)
    assert not s3_store.has(sha) and not s3_store.has(sha, "thumb")
    with pytest.raises(PhotoNotFound):
        s3_store.read(sha)

    # Parts are staged locally and uploaded once complete.
    assert s3_store.append_part(sha, 0, photo[:1000], len(photo)) == 1000
    with pytest.raises(RangeGap):
        s3_store.append_part(sha, 2000, photo[2000:], len(photo))
    s3_store.append_part(sha, 1000, photo[1000:], len(photo))
    with s3_store.take_part(sha) as taken:
        assert s3_store.put(sha, taken, move=True) is True
    assert not taken.exists() and s3_store.read(sha) == photo
    s3_store.delete(sha)
