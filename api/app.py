"""The app factory: ``create_app(settings)`` wires settings, database, clock and blueprints.

Exactly one place commits: ``AnxunFlask.dispatch_request`` commits the request's
session after the view returns and rolls back if it raised."""

from __future__ import annotations

import http

from flask import Flask, g
from sqlalchemy.exc import DBAPIError
from flask_compress import Compress
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from api import docs, web
from api.context import Services, reads_only
from api.errors import PROBLEM, ProblemOut, http_problem, register_error_handlers
from api.inputs import refuse_unstorable_url
from api.keepalive import DrainUnreadBody
from api.openapi import AnxunDocument
from config.settings import Settings, configure_logging
from core.clock import Clock
from core.serialize import json_default
from core.times import judged_at
from db.session import make_engine, make_read_engine, make_session_factory, refuse_writes_in_read_sessions
from evidence.storage import make_store


class AnxunFlask(Flask):
    def dispatch_request(self):
        try:
            rv = self._dispatch_once()
        except DBAPIError as error:
            # A read met a connection the database dropped (a restart): the pool has thrown away every
            # connection as old as that one, and a read is safe to run again, once.
            if not (error.connection_invalidated and reads_only()):
                raise
            rv = self._dispatch_once()
        session = g.get("db_session")
        if session is not None and not session.info.get("read_only"):
            session.commit()
        return rv

    def _dispatch_once(self):
        try:
            with judged_at(self.extensions["anxun"].clock.now()):
                return super().dispatch_request()
        except BaseException:
            session = g.pop("db_session", None)
            if session is not None:
                session.rollback()
                session.close()
            raise


class AnxunApi(Api):
    ERROR_SCHEMA = ProblemOut

    def handle_http_exception(self, error):
        return http_problem(error)

    def _register_responses(self):
        """flask-smorest's error responses (one per status, and the default), as problem+json."""
        error = {"content": {PROBLEM: {"schema": self.ERROR_SCHEMA}}}
        for status in http.HTTPStatus:
            body = error if status >= 200 and status not in (204, 304) else {}
            self.spec.components.response(status.name, {"description": status.phrase, **body}, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {"description": "错误（problem+json）", **error}, lazy=True)


def create_app(settings: Settings, *, session_factory=None, clock: Clock | None = None) -> Flask:
    configure_logging(settings)
    app = AnxunFlask(__name__)
    # The largest body any endpoint reads: a push batch or a photo, with room for the framing.
    max_body = max(settings.max_batch_bytes, settings.max_photo_bytes) + 1024 * 1024
    app.config.update(
        TESTING=settings.testing,
        API_TITLE="安巡 AnXun API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.SWAGGER_UI_URL,
        # No validator badge: it is fetched from swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL=docs.REDOC_URL,
        MAX_CONTENT_LENGTH=max_body,
        JSON_AS_ASCII=False,
        # JSON, GeoJSON and the docs' scripts, when the client accepts it (the sync pull above all:
        # SYNC_PROTOCOL.md). xlsx and photos are compressed already and keep their own types out of this
        # list; deflate is left out for its zlib-or-raw ambiguity between clients.
        COMPRESS_MIMETYPES=[
            "application/json",
            "application/geo+json",
            "application/problem+json",
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
        ],
        COMPRESS_ALGORITHM=["gzip", "br", "zstd"],
        COMPRESS_LEVEL=5,
    )
    app.json.ensure_ascii = False
    app.json.default = json_default  # times as every answer shows them (core.times.shown), not RFC 822
    app.wsgi_app = DrainUnreadBody(app.wsgi_app, limit=max_body)
    if settings.trusted_proxies:
        # remote_addr (login throttling, the audit log) is then the client's address as the proxies saw it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    engine = read_engine = None
    read_session_factory = session_factory
    if session_factory is None:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        session_factory = make_session_factory(engine)
        read_engine = make_read_engine(settings.database_url, pool_size=settings.db_pool_size)
        read_session_factory = make_session_factory(read_engine)
    refuse_writes_in_read_sessions(read_session_factory)
    app.extensions["anxun"] = Services(
        settings=settings,
        session_factory=session_factory,
        clock=clock or Clock(),
        engine=engine,
        photo_store=make_store(settings),
        read_session_factory=read_session_factory,
        read_engine=read_engine,
    )

    @app.teardown_appcontext
    def close_session(exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    @app.after_request
    def no_sniffing(response):
        # Browsers must take the declared type: a photo or a problem+json is never run as a script.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    Compress(app)
    api = AnxunApi(
        app,
        spec_kwargs={
            "extra_plugins": [AnxunDocument()],
            "info": {"description": "安全生产基层网格化巡查与执法检查 API。错误统一为 RFC 9457 problem+json。"},
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    register_error_handlers(app)
    app.before_request(refuse_unstorable_url)
    app.register_blueprint(docs.blp)
    # The built web apps (/app/, /console/, /open/): plain Flask, outside the OpenAPI document.
    app.config.setdefault("ANXUN_WEB_DIST", str(web.DEFAULT_DIST))
    app.register_blueprint(web.blp)
    _register_blueprints(api)
    _register_extensions()
    _register_cli(app)
    return app


def _register_blueprints(api: Api) -> None:
    from accounts.routes import blp as accounts_blp
    from accounts.routes import people_blp, users_blp
    from api.health import blp as health_blp
    from cases.routes import blp as cases_blp
    from checklists.routes import blp as checklists_blp
    from documents.routes import blp as documents_blp
    from documents.routes import public_documents_blp
    from enterprises.routes import blp as enterprises_blp
    from evidence.routes import blp as photos_blp
    from grids.routes import grids_blp, regions_blp
    from inspections.routes import hazards_blp, inspections_blp, patrols_blp, plans_blp, public_blp, tasks_blp
    from public_reports.routes import desk_blp as public_reports_blp
    from public_reports.routes import public_blp as public_reports_public_blp
    from reports.routes import ledger_export_blp, reports_blp, stats_blp
    from sync.routes import blp as sync_blp
    from trails.routes import blp as audit_blp

    for blp in (
        health_blp,
        accounts_blp,
        people_blp,
        users_blp,
        regions_blp,
        grids_blp,
        enterprises_blp,
        checklists_blp,
        photos_blp,
        plans_blp,
        inspections_blp,
        hazards_blp,
        ledger_export_blp,
        patrols_blp,
        tasks_blp,
        sync_blp,
        stats_blp,
        reports_blp,
        public_blp,
        cases_blp,
        documents_blp,
        public_documents_blp,
        public_reports_public_blp,
        public_reports_blp,
        audit_blp,
    ):
        api.register_blueprint(blp)


def _register_extensions() -> None:
    """What higher packages hand lower ones: every kind of record that names photos, with who may see it
    (evidence.access), and the columns other packages add to the hazard ledger (inspections.hazards)."""
    from cases.service import LEDGER_COLUMNS as case_columns
    from documents.signatures import PHOTO_OWNERS as signature_photos
    from enterprises.photos import PHOTO_OWNERS as enterprise_photos
    from evidence.access import register_photo_owner
    from inspections.hazards import register_ledger_column
    from inspections.photos import PHOTO_OWNERS as inspection_photos
    from public_reports.service import PHOTO_OWNERS as public_report_photos

    for owner in (*enterprise_photos, *inspection_photos, *public_report_photos, *signature_photos):
        register_photo_owner(owner.entity, owner.visible_ids, owner.context)
    for name, build in case_columns.items():
        register_ledger_column(name, build)


def _register_cli(app: Flask) -> None:
    from api.cli import anxun_cli

    app.cli.add_command(anxun_cli)
