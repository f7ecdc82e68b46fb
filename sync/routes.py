"""``/sync/config``, ``/sync/push``, ``/sync/pull`` (docs/SYNC_PROTOCOL.md)."""

from __future__ import annotations

from flask import g, request

from api.auth import authenticated
from api.context import clock, db, needs_transaction, services, settings
from api.inputs import Blueprint
from sync import pull as pull_service
from sync import push as push_service
from sync.body import read_json_body
from sync.schemas import BatchIn, ConfigOut, PullOut, PullQuery, PushOut

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="离线同步（见 SYNC_PROTOCOL.md）")


@blp.route("/config")
@blp.doc(operationId="getSyncConfig")
@authenticated
@blp.response(200, ConfigOut)
def config():
    """手机须遵守的上限、服务器时间与协议版本"""
    return push_service.server_config(clock(), settings())


@blp.route("/push", methods=["POST"])
# Documented, not loaded here: push.py loads the envelope, then each change on its own.
@blp.doc(
    operationId="pushChanges", requestBody={"required": True, "content": {"application/json": {"schema": BatchIn}}}
)
@authenticated
@blp.response(200, PushOut)
@blp.alt_response(413, description="sync.batch_too_large")
@blp.alt_response(400, description="请求体不是 JSON，或声明 gzip 却不是 gzip")
@blp.alt_response(
    422, description="validation：批次信封无效（batch_id、sent_at、changes）；单条变更的错误在 results 中"
)
def push():
    """上传一批离线记录：逐条结果（applied / duplicate / conflict / rejected），同一 batch_id 重发得到同一答复"""
    body = read_json_body(
        request.stream,
        content_encoding=request.headers.get("Content-Encoding"),
        content_length=request.content_length,
        limit=settings().max_batch_bytes,
    )
    return push_service.push_batch(
        db(),
        clock(),
        g.principal,
        body.value,
        settings=settings(),
        store=services().photo_store,
        text_storable=body.storable,
    )


@blp.route("/pull")
@blp.doc(operationId="pullChanges")
@needs_transaction  # holds the feed's compaction lock (shared) for its transaction, and reads in it
@authenticated
@blp.arguments(PullQuery, location="query")
@blp.response(200, PullOut)
def pull(query):
    """拉取变更：按游标分页，仅限本人可见范围；离开范围的记录以 delete 下发"""
    # Compressed as every JSON answer is, when the phone accepts it (api/app.py, Flask-Compress).
    return pull_service.pull(db(), clock(), g.principal, query["cursor"], query["limit"])
