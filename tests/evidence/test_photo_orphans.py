"""Photos no record names are removed after Settings.orphan_photo_days; named and young
photos stay."""

from __future__ import annotations


from sqlalchemy import func, select

from audit.models import AuditEntry
from evidence.models import Photo
from evidence.service import name_photos, remove_orphan_photos
from jobs.jobs import JobEnv
from jobs.runner import run_job
from tests.evidence import images
from tests.evidence.uploads import upload


def test_orphans_are_removed_after_n_days(app, client, login, session, clock, demo, settings, uploader):
    store = app.extensions["anxun"].photo_store
    worker = login("gridworker1")
    orphan = upload(client, worker, images.png((10, 10)))
    named = upload(client, worker, images.png((11, 11)))
    name_photos(session, clock, uploader, "enterprise", demo.retailer.id, [named])
    # Named by a record of a kind nobody registered: still named, so kept.
    named_elsewhere = upload(client, worker, images.png((12, 12)))
    name_photos(session, clock, uploader, "patrol", demo.retailer.id, [named_elsewhere])

    clock.advance(days=settings.orphan_photo_days - 1)
    assert remove_orphan_photos(session, clock, store, settings.orphan_photo_days) == 0

    clock.advance(days=2)
    young = upload(client, login("gridworker1"), images.png((13, 13)))
    assert remove_orphan_photos(session, clock, store, settings.orphan_photo_days) == 1

    held = set(session.scalars(select(Photo.sha256).where(Photo.sha256.in_([orphan, named, named_elsewhere, young]))))
    assert held == {named, named_elsewhere, young}
    assert not store.has(orphan) and not store.has(orphan, "thumb")
    assert store.has(named) and store.has(young, "thumb")
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "remove_orphans", AuditEntry.summary.contains({"sha256": [orphan]})
        )
    )
    assert entry.summary["count"] == 1 and entry.summary["sha256"] == [orphan]
    assert entry.actor_id is None and entry.at == clock.now()
    # Nothing left to do; and a removed photo can be uploaded again.
    assert remove_orphan_photos(session, clock, store, settings.orphan_photo_days) == 0
    again = client.put(f"/api/v1/photos/{orphan}", data=images.png((10, 10)), headers=login("gridworker1"))
    assert again.status_code == 201


def test_orphan_sweep_leaves_resumable_parts_alone(app, client, login, session, clock, settings):
    store = app.extensions["anxun"].photo_store
    worker = login("gridworker1")
    data = images.png((14, 14))
    sha = upload(client, worker, data)
    clock.advance(days=settings.orphan_photo_days + 1)
    # Someone is re-sending it in parts just now (the row is gone by the time they finish).
    store.append_part(sha, 0, data[:10], len(data))
    assert remove_orphan_photos(session, clock, store, settings.orphan_photo_days) == 1
    assert store.received(sha) == 10


def test_the_scheduled_job_removes_orphans_in_its_own_transaction(
    app, client, login, session, session_factory, clock, settings
):
    store = app.extensions["anxun"].photo_store
    sha = upload(client, login("gridworker1"), images.png((15, 15)))
    clock.advance(days=settings.orphan_photo_days + 1)
    outcome = run_job(session_factory, clock, JobEnv(settings=settings, photo_store=store), "orphan_photos")
    assert outcome.ok and outcome.result["photos_removed"] == 1, outcome
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha)) == 0
