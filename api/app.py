"""The app factory: ``create_app(settings)`` wires settings, database, clock and blueprints.

Exactly one place commits: ``AnxunFlask.dispatch_request`` commits the request's
session after the view returns and rolls back if it raised."""
from __future__ import annotations

from flask import Flask, g
from flask_smorest import Api

from api.context import Services
from api.errors import http_problem, register_error_handlers
from config.settings import Settings, configure_logging
from core.clock import Clock
from db.session import make_engine, make_session_factory
from evidence.storage import make_store


class AnxunFlask(Flask):
    def dispatch_request(self):
        try:
            rv = super().dispatch_request()
        except BaseException:
            session = g.pop("db_session", None)
            if session is not None:
                session.rollback()
                session.close()
            raise
        session = g.get("db_session")
        if session is not None:
            session.commit()
        return rv


class AnxunApi(Api):
    def handle_http_exception(self, error):
        return http_problem(error)


def create_app(settings: Settings, *, session_factory=None, clock: Clock | None = None) -> Flask:
    configure_logging(settings)
    app = AnxunFlask(__name__)
    app.config.update(
        TESTING=settings.testing,
        API_TITLE="安巡 AnXun API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js",
        MAX_CONTENT_LENGTH=max(settings.max_batch_bytes, settings.max_photo_bytes) + 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        session_factory = make_session_factory(engine)
    app.extensions["anxun"] = Services(settings=settings, session_factory=session_factory,
                                       clock=clock or Clock(), engine=engine, photo_store=make_store(settings))

    @app.teardown_appcontext
    def close_session(exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    api = AnxunApi(app, spec_kwargs={
        "info": {"description": "安全生产基层网格化巡查与执法检查 API。错误统一为 RFC 9457 problem+json。"},
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    register_error_handlers(app)
    _register_blueprints(api)
    _register_cli(app)
    return app


def _register_blueprints(api: Api) -> None:
    from accounts.routes import blp as accounts_blp
    from accounts.routes import people_blp
    from api.health import blp as health_blp
    from cases.routes import blp as cases_blp
    from checklists.routes import blp as checklists_blp
    from documents.routes import blp as documents_blp
    from documents.routes import public_documents_blp
    from enterprises.routes import blp as enterprises_blp
    from evidence.routes import blp as photos_blp
    from geo.routes import grids_blp, regions_blp
    from inspections.routes import hazards_blp, inspections_blp, patrols_blp, plans_blp, public_blp
    from reports.routes import ledger_export_blp, reports_blp, stats_blp
    from sync.routes import blp as sync_blp

    for blp in (health_blp, accounts_blp, people_blp, regions_blp, grids_blp, enterprises_blp, checklists_blp,
                photos_blp, plans_blp, inspections_blp, hazards_blp, ledger_export_blp, patrols_blp, sync_blp,
                stats_blp, reports_blp, public_blp, cases_blp, documents_blp, public_documents_blp):
        api.register_blueprint(blp)


def _register_cli(app: Flask) -> None:
    from api.cli import anxun_cli

    app.cli.add_command(anxun_cli)
