"""The reads ceiling: a bare Flask app doing one pooled ``SELECT 1`` per request, served by the same
gunicorn command as the API (``bench.server.Server(app="bench.ceiling_app:app")``). What an
authenticated ``GET /enterprises/{id}`` costs beyond it is AnXun's own (token, scope, ORM, schema)."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

app = Flask(__name__)
# The pool the API uses per worker (Settings.db_pool_size), so both wait on connections alike.
engine = create_engine(
    os.environ["DATABASE_URL"], pool_size=int(os.environ.get("ANXUN_DB_POOL_SIZE") or 5), pool_pre_ping=False
)


@app.get("/api/v1/health")
def health():
    return jsonify(status="ok")


@app.get("/select1")
def select1():
    with engine.connect() as conn:
        value = conn.execute(text("SELECT 1")).scalar()
    return jsonify(value=value)
