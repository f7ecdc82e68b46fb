"""Concurrency for real: a threaded werkzeug server on committed rows (the usual test
fixtures share one rolled-back connection, which cannot race with itself). Each test
removes the rows it committed; the audit log is append-only, so its entries stay in the
throwaway database."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from accounts.models import AccessToken, Device, LoginAttempt, User
from audit.models import AuditEntry
from evidence import service
from evidence.models import Photo, PhotoRef
from evidence.service import name_photos, photo_held, remove_orphan_photos
from evidence.storage import FilesystemStore
from tests.evidence import images
from tests.evidence.uploads import sha_of
from tests.evidence.test_storage import REPO


@pytest.fixture
def live(engine, settings, clock):
    from accounts.service import DeviceInfo, login, reserve_login_attempt
    from api.app import create_app
    from db.session import make_session_factory

    factory = make_session_factory(engine)
    address = f"live-{uuid.uuid4().hex[:12]}"
    devices, headers = [], {}
    with factory.begin() as session:
        for username in ("gridworker1", "gridworker3"):
            device = f"live-{username}-{uuid.uuid4().hex[:8]}"
            attempt = reserve_login_attempt(session, clock, settings, username=username, address=address)
            result = login(
                session,
                clock,
                settings,
                attempt=attempt,
                username=username,
                password="anxun-demo",
                device=DeviceInfo(id=device, name="pytest live"),
                address=address,
            )
            devices.append(device)
            headers[username] = {"Authorization": f"Bearer {result.token}"}
    app = create_app(settings, session_factory=factory, clock=clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state = SimpleNamespace(
        port=server.server_port, headers=headers, factory=factory, shas=[], store=app.extensions["anxun"].photo_store
    )
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(10)
        with factory.begin() as session:
            session.execute(delete(PhotoRef).where(PhotoRef.sha256.in_(state.shas)))
            session.execute(delete(Photo).where(Photo.sha256.in_(state.shas)))
            session.execute(delete(AccessToken).where(AccessToken.device_id.in_(devices)))
            session.execute(delete(Device).where(Device.id.in_(devices)))
            session.execute(delete(LoginAttempt).where(LoginAttempt.address == address))


def call(
    live, method: str, path: str, body: bytes | None = None, headers: dict | None = None, *, port: int | None = None
):
    conn = http.client.HTTPConnection("127.0.0.1", port or live.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def rows(live, sha: str) -> int:
    with live.factory() as session:
        return session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha))


def originals(store: FilesystemStore) -> list:
    folder = store.root / "originals"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_two_concurrent_uploads_of_the_same_bytes_store_one_copy(live, monkeypatch):
    data = images.jpeg((1200, 900), images.make_exif(), quality=95)
    sha = sha_of(data)
    live.shas.append(sha)
    # Hold both requests after they have received the bytes and found the photo not held,
    # so that both really race for the row.
    barrier = threading.Barrier(2, timeout=30)
    real = service.inspect_and_thumbnail

    def both_past_the_check(*args, **kwargs):
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "inspect_and_thumbnail", both_past_the_check)
    results: dict[str, int] = {}

    def send(username):
        status, _, _ = call(live, "PUT", f"/api/v1/photos/{sha}", data, live.headers[username])
        results[username] = status

    threads = [threading.Thread(target=send, args=(name,)) for name in ("gridworker1", "gridworker3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values()) == [200, 201], results
    assert rows(live, sha) == 1
    assert [p.name for p in originals(live.store)] == [sha]
    assert live.store.read(sha) == data
    assert not [p for p in live.store.staging_dir.iterdir() if p.suffix == ".tmp"]
    winner = next(name for name, status in results.items() if status == 201)
    with live.factory() as session:
        uploader = session.scalar(
            select(User.username).join(Photo, Photo.uploaded_by == User.id).where(Photo.sha256 == sha)
        )
        assert uploader == winner
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.entity == "photo", AuditEntry.entity_id == sha, AuditEntry.action == "upload")
            )
            == 1
        )


def resumable(live, username: str, data: bytes, chunk: int, log: list) -> int:
    """A phone's upload loop: send the next part; on a gap ask HEAD where to go on."""
    sha, total, offset = sha_of(data), len(data), 0
    headers = live.headers[username]
    for _ in range(200):
        end = min(offset + chunk, total) - 1
        status, answer, _ = call(
            live,
            "PUT",
            f"/api/v1/photos/{sha}",
            data[offset : end + 1],
            {**headers, "Content-Range": f"bytes {offset}-{end}/{total}"},
        )
        log.append(status)
        if status in (200, 201):
            return status
        if status == 308:
            offset = int(answer["Range"].removeprefix("bytes=0-")) + 1
            continue
        assert status == 409, status  # the part file was claimed or restarted under us
        status, answer, _ = call(live, "HEAD", f"/api/v1/photos/{sha}", headers=headers)
        if status == 200:
            return 200
        offset = int(answer["Range"].removeprefix("bytes=0-")) + 1 if status == 308 else 0
    raise AssertionError("upload did not finish")


def test_concurrent_resumable_uploads_of_the_same_photo_end_with_one_copy(live):
    data = images.jpeg((1600, 1200), images.make_exif(), quality=95)
    sha = sha_of(data)
    live.shas.append(sha)
    finals: dict[str, int] = {}
    logs: dict[str, list] = {"gridworker1": [], "gridworker3": []}

    errors: list[BaseException] = []

    def run(username):
        try:
            finals[username] = resumable(live, username, data, max(1, len(data) // 7), logs[username])
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, (errors, logs)
    assert sorted(finals.values()) == [200, 201], (finals, logs)
    assert rows(live, sha) == 1
    assert live.store.read(sha) == data
    assert live.store.received(sha) is None
    assert [p.name for p in originals(live.store)] == [sha]


def test_upload_resumes_after_the_connection_really_breaks(live):
    data = images.jpeg((1600, 1200), images.make_exif(), quality=95)
    sha, total = sha_of(data), len(data)
    live.shas.append(sha)
    headers = live.headers["gridworker1"]
    first_end, half = total // 2 - 1, total // 4

    # Announce the first half, send a quarter, and drop the connection.
    sock = socket.create_connection(("127.0.0.1", live.port))
    request = (
        f"PUT /api/v1/photos/{sha} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        f"Content-Range: bytes 0-{first_end}/{total}\r\nContent-Length: {first_end + 1}\r\n\r\n"
    )
    sock.sendall(request.encode() + data[:half])
    sock.close()

    deadline = time.monotonic() + 20
    while True:
        status, answer, _ = call(live, "HEAD", f"/api/v1/photos/{sha}", headers=headers)
        if status == 308 and answer["Range"] == f"bytes=0-{half - 1}":
            break
        assert time.monotonic() < deadline, (status, dict(answer))
        time.sleep(0.05)

    status, answer, _ = call(
        live,
        "PUT",
        f"/api/v1/photos/{sha}",
        data[half : first_end + 1],
        {**headers, "Content-Range": f"bytes {half}-{first_end}/{total}"},
    )
    assert status == 308 and answer["Range"] == f"bytes=0-{first_end}"
    status, _, body = call(
        live,
        "PUT",
        f"/api/v1/photos/{sha}",
        data[first_end + 1 :],
        {**headers, "Content-Range": f"bytes {first_end + 1}-{total - 1}/{total}"},
    )
    assert status == 201, body
    assert live.store.read(sha) == data


# An API worker in a process of its own, on the test's database and photo folder, that is killed
# (-9) while it stores a photo: decoding is where storing spends its time, and the worker then holds
# the claimed upload. Its database transaction dies with its connection.
DYING_WORKER = textwrap.dedent("""
    import os, signal, sys
    from werkzeug.serving import make_server
    from api.app import create_app
    from config.settings import Settings
    from core.clock import FixedClock
    from evidence import service
    from tests.conftest import START

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    service.inspect_and_thumbnail = killed
    settings = Settings.from_env({}, database_url=sys.argv[1], testing=True, photo_root=sys.argv[2])
    server = make_server("127.0.0.1", 0, create_app(settings, clock=FixedClock(START)))
    print(server.server_port, flush=True)
    server.serve_forever()
""")


@pytest.mark.parametrize("again", ["in parts", "whole"])
def test_an_upload_whose_worker_was_killed_completing_it_succeeds_at_once_next_time(live, settings, again):
    """The last part reaches a worker that is killed while it stores the photo; the phone hears
    nothing, asks HEAD, and starts again. Its first request stores the photo (201), from the bytes
    the dead worker had claimed or from its own, and nothing of the dead worker's is left."""
    data = images.jpeg((1600, 1200), images.make_exif(), quality=95)
    sha, total, half = sha_of(data), len(data), len(data) // 2
    live.shas.append(sha)
    headers = live.headers["gridworker1"]
    path = f"/api/v1/photos/{sha}"
    first_half = {**headers, "Content-Range": f"bytes 0-{half - 1}/{total}"}
    assert call(live, "PUT", path, data[:half], first_half)[0] == 308

    worker = subprocess.Popen(
        [sys.executable, "-c", DYING_WORKER, settings.database_url, settings.photo_root],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(worker.stdout.readline())
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            call(
                live,
                "PUT",
                path,
                data[half:],
                {**headers, "Content-Range": f"bytes {half}-{total - 1}/{total}"},
                port=port,
            )
        assert worker.wait(30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert [p.suffix for p in live.store.staging_dir.iterdir()] == [".taken"] and rows(live, sha) == 0

    assert call(live, "HEAD", path, headers=headers)[0] == 404
    if again == "in parts":
        status, _, body = call(live, "PUT", path, data[:half], first_half)
    else:
        status, _, body = call(live, "PUT", path, data, headers)
    assert status == 201, body
    assert live.store.read(sha) == data and rows(live, sha) == 1
    assert list(live.store.staging_dir.iterdir()) == []


# --------------------------------------------------------------------------- orphans and locks


@pytest.fixture
def old_photo(engine, clock, tmp_path, demo):
    """A committed photo row uploaded long ago, with its files, that no record names."""
    store = FilesystemStore(tmp_path / "sweep")
    data = images.png((16, 16))
    sha = sha_of(data)
    store.put(sha, data)
    store.put(sha, data, "thumb")
    with Session(engine) as session, session.begin():
        session.add(
            Photo(
                sha256=sha,
                mime="image/png",
                size_bytes=len(data),
                width=16,
                height=16,
                orientation=1,
                uploaded_by=demo.users["gridworker1"].id,
                uploaded_at=clock.now() - timedelta(days=90),
                thumb_stored=True,
            )
        )
    enterprise_id = demo.retailer.id
    try:
        yield SimpleNamespace(sha=sha, store=store, enterprise_id=enterprise_id)
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(PhotoRef).where(PhotoRef.sha256 == sha))
            session.execute(delete(Photo).where(Photo.sha256 == sha))


def sweep(engine, clock, store) -> int:
    with Session(engine) as session, session.begin():
        # The sweep must pass over held rows, never wait for them.
        session.execute(select(func.set_config("lock_timeout", "2s", True)))
        return remove_orphan_photos(session, clock, store, 30)


def test_sweep_passes_over_a_photo_a_record_is_naming_right_now(engine, clock, old_photo, uploader):
    naming = Session(engine)
    try:
        naming.begin()
        # A sync push names the photo and is told it is held; not committed yet.
        assert name_photos(naming, clock, uploader, "enterprise", old_photo.enterprise_id, [old_photo.sha]) == []
        assert sweep(engine, clock, old_photo.store) == 0
        naming.commit()
    finally:
        naming.close()
    assert sweep(engine, clock, old_photo.store) == 0  # named now
    assert old_photo.store.has(old_photo.sha)


def test_sweep_removes_the_photo_when_the_naming_rolls_back(engine, clock, old_photo, uploader):
    naming = Session(engine)
    try:
        naming.begin()
        name_photos(naming, clock, uploader, "enterprise", old_photo.enterprise_id, [old_photo.sha])
        naming.rollback()
    finally:
        naming.close()
    assert sweep(engine, clock, old_photo.store) == 1
    assert not old_photo.store.has(old_photo.sha)


def test_sweep_passes_over_a_photo_an_upload_was_just_told_is_held(engine, clock, old_photo):
    uploading = Session(engine)
    try:
        uploading.begin()
        assert photo_held(uploading, old_photo.store, old_photo.sha)
        assert sweep(engine, clock, old_photo.store) == 0
    finally:
        uploading.rollback()
        uploading.close()
    assert sweep(engine, clock, old_photo.store) == 1


def test_naming_waits_for_a_sweep_in_progress_and_then_reports_the_photo_missing(engine, clock, old_photo, uploader):
    sweeping = Session(engine)
    outcome: dict = {}
    try:
        sweeping.begin()
        assert remove_orphan_photos(sweeping, clock, old_photo.store, 30) == 1  # deleted, not committed

        def name():
            with Session(engine) as session, session.begin():
                outcome["missing"] = name_photos(
                    session, clock, uploader, "enterprise", old_photo.enterprise_id, [old_photo.sha]
                )

        thread = threading.Thread(target=name)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()  # waiting on the deleted row
        sweeping.commit()
        thread.join(10)
    finally:
        sweeping.close()
    assert outcome["missing"] == [old_photo.sha]
