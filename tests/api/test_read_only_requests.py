"""GET and HEAD run on read-only autocommit connections (api.context.reads_only): a view that writes
under GET fails loudly — at the server on the real read pool, in the session guard on the tests'
shared connection — and nothing it tried is kept; a view marked ``needs_transaction`` writes as a POST does."""

import uuid

import pytest
from sqlalchemy import create_engine, select, text, update

from accounts.models import User
from api.context import db, needs_transaction
from db.session import WriteInReadSession


def _views(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production, not raise into the test

    def rename_in_a_get():
        db().execute(update(User).where(User.username == "desk").values(name="改名"))
        return {"ok": True}

    def rename_in_sql_in_a_get():
        db().execute(text("UPDATE users SET name = '改名' WHERE username = 'desk'"))
        return {"ok": True}

    @needs_transaction
    def rename_in_a_marked_get():
        db().execute(update(User).where(User.username == "desk").values(name="改名"))
        return {"ok": True}

    def where_am_i():
        session = db()
        session.execute(text("SELECT 1"))
        return {
            "read_only": session.info.get("read_only", False),
            "autocommit": session.connection().connection.dbapi_connection.autocommit,
            "server_read_only": session.execute(text("SHOW transaction_read_only")).scalar(),
        }

    app.add_url_rule("/test/rename", "rename", rename_in_a_get)
    app.add_url_rule("/test/rename-sql", "rename_sql", rename_in_sql_in_a_get)
    app.add_url_rule("/test/rename-marked", "rename_marked", rename_in_a_marked_get)
    app.add_url_rule("/test/where", "where_get", where_am_i)
    app.add_url_rule("/test/where", "where_post", where_am_i, methods=["POST"])
    return app.test_client()


def _desk_name(url_or_session) -> str:
    return url_or_session.scalar(select(User.name).where(User.username == "desk"))


def test_a_write_under_get_fails_at_the_server_and_is_not_kept(committed_app):
    app, _clock, url = committed_app
    client = _views(app)
    assert client.get("/test/rename").status_code == 500
    assert client.get("/test/rename-sql").status_code == 500
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert _desk_name(conn) != "改名"
        assert client.get("/test/rename-marked").status_code == 200
        with engine.connect() as conn:
            assert _desk_name(conn) == "改名"
    finally:
        engine.dispose()


def test_gets_are_read_only_without_a_transaction_and_posts_are_not(committed_app):
    app, _clock, _url = committed_app
    client = _views(app)
    assert client.get("/test/where").get_json() == {
        "read_only": True,
        "autocommit": True,
        "server_read_only": "on",
    }
    assert client.post("/test/where").get_json() == {
        "read_only": False,
        "autocommit": False,
        "server_read_only": "off",
    }


def test_the_session_guard_refuses_an_orm_write_under_get_on_a_shared_connection(app, session):
    client = _views(app)
    assert client.get("/test/rename").status_code == 500
    assert _desk_name(session) != "改名"
    assert client.get("/test/rename-marked").status_code == 200
    assert _desk_name(session) == "改名"


def test_a_read_only_session_refuses_new_records(app, session):
    with app.test_request_context("/api/v1/health"):
        app.preprocess_request()
        reader = db()
        assert reader.info["read_only"]
        reader.add(User(id=uuid.uuid4(), username="nobody", name="无", roles=["grid_worker"], password_hash="x"))
        with pytest.raises(WriteInReadSession):
            reader.flush()
        reader.rollback()


def test_the_gets_that_need_a_transaction_get_one_and_the_others_do_not(app):
    """A missing mark would not fail their own tests (an advisory lock in autocommit is simply let go at
    once, a server-side cursor fails only when long), so the marks are checked here."""
    from api.context import reads_only

    sha = "0" * 64
    expected = {
        ("GET", "/api/v1/sync/pull"): False,
        ("GET", "/api/v1/hazards/export.xlsx"): False,
        ("HEAD", f"/api/v1/photos/{sha}"): False,
        ("GET", f"/api/v1/photos/{sha}"): True,
        ("GET", f"/api/v1/enterprises/{uuid.uuid4()}"): True,
        ("GET", "/api/v1/hazards"): True,
        ("POST", "/api/v1/sync/push"): False,
    }
    seen = {}
    for method, path in expected:
        with app.test_request_context(path, method=method):
            app.preprocess_request()
            seen[(method, path)] = reads_only()
    assert seen == expected
