"""``GET /api/v1/health``: 200 with database and PostGIS versions, 503 + Retry-After when not ready."""

from __future__ import annotations

from marshmallow import Schema, fields
from sqlalchemy import text

from api.context import db
from api.inputs import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="服务状态")


class HealthOut(Schema):
    status = fields.String()
    database = fields.String()
    postgis = fields.String()


@blp.route("/health")
@blp.doc(security=[], operationId="getHealth")
@blp.response(200, HealthOut)
@blp.alt_response(503, description="数据库不可用（problem+json，带 Retry-After）")
def health():
    """服务与数据库状态"""
    database, postgis = db().execute(text("SELECT version(), postgis_lib_version()")).one()
    return {"status": "ok", "database": database, "postgis": postgis}
