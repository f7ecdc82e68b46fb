"""``/photos/{sha256}``: content-addressed, resumable upload; metadata with the geotag check;
thumbnail and original (SYNC_PROTOCOL.md §4)."""

from __future__ import annotations

import re

from flask import Response, g, jsonify, request, send_file
from flask.views import MethodView

from api.auth import authenticated
from api.context import clock, db, needs_transaction, services, settings
from api.inputs import Blueprint
from evidence import service
from evidence.schemas import PhotoOut, UploadProgressOut
from evidence.storage import PhotoNotFound, RangeInvalid, check_sha

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos", description="照片证据")

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d{1,12})-(\d{1,12})/(\d{1,12})\s*$")
# Content-addressed: the bytes under a name never change, so caches may keep them for good.
_CACHE = "private, max-age=31536000, immutable"

_IMAGE_BODY = {
    "required": True,
    "description": "照片原始字节（JPEG、PNG、HEIC；按解码结果判断类型）。分段上传时带 Content-Range。",
    "content": {
        mime: {"schema": {"type": "string", "format": "binary"}}
        for mime in ("image/jpeg", "image/png", "image/heic", "application/octet-stream")
    },
}
_SHA_PARAM = {
    "in": "path",
    "name": "sha256",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}
_RANGE_PARAM = {
    "in": "header",
    "name": "Content-Range",
    "required": False,
    "description": "分段上传：bytes <start>-<end>/<total>（end 含），total 不超过 max_photo_bytes",
    "schema": {"type": "string", "example": "bytes 0-1048575/3145728"},
}
_RANGE_HEADER = {
    "Range": {"description": "服务器已连续收到的范围：bytes=0-<last received>", "schema": {"type": "string"}}
}


def _store():
    return services().photo_store


def _progress(sha: str, received: int, total: int | None, *, body: bool = True) -> Response:
    response = (
        jsonify(UploadProgressOut().dump({"sha256": sha, "received": received, "total": total})) if body else Response()
    )
    response.status_code = 308
    response.headers["Range"] = f"bytes=0-{received - 1}"
    return response


def _parse_content_range(header: str) -> tuple[int, int, int]:
    match = _CONTENT_RANGE.match(header)
    if not match:
        raise RangeInvalid("Content-Range 应为 bytes <start>-<end>/<total>", extra={"content_range": header[:100]})
    start, end, total = (int(part) for part in match.groups())
    return start, end, total


def _answer(sha: str, status: int):
    """The photo as the caller may see it: full metadata, or for a photo somebody else
    uploaded and the caller sees no record of, only what its bytes tell anyway."""
    session = db()
    try:
        return service.describe_photo(session, g.principal, sha, geofence_m=settings().geofence_meters), status
    except PhotoNotFound:
        return service.photo_summary(session, sha), status


@blp.route("/<sha256>")
class PhotoResource(MethodView):
    @authenticated
    @blp.doc(operationId="uploadPhoto", parameters=[_SHA_PARAM, _RANGE_PARAM], requestBody=_IMAGE_BODY)
    @blp.response(201, PhotoOut, description="已保存：照片元数据")
    @blp.alt_response(200, schema=PhotoOut, description="服务器已有此照片（内容须与名称相符），未写入任何内容")
    @blp.alt_response(
        308,
        schema=UploadProgressOut,
        headers=_RANGE_HEADER,
        description="分段已收到；Range 头给出服务器已连续收到的范围",
    )
    @blp.alt_response(
        409,
        description="分段不连续（photo.range_gap，带 received），或另一上传正在完成此照片"
        "（photo.incomplete）：用 HEAD 查询后继续",
    )
    @blp.alt_response(
        413,
        description="超过 max_photo_bytes（photo.too_large）、像素过多（photo.too_many_pixels）"
        "或解码所需内存超过上限（photo.too_large_to_decode）",
    )
    @blp.alt_response(415, description="不是完整的 JPEG、PNG 或 HEIC（photo.unsupported）")
    @blp.alt_response(422, description="内容与 SHA-256 不符（photo.hash_mismatch）、名称或范围无效")
    def put(self, sha256: str):
        """上传照片（按 SHA-256 命名，幂等；支持 Content-Range 分段续传）"""
        check_sha(sha256)
        conf, store, session = settings(), _store(), db()
        # Also for a photo the server holds: the answer "held" is earned by the bytes of its name.
        declared = request.content_length
        # Before touching request.stream, which refuses past the app-wide limit on its own terms.
        service.refuse_declared_too_large(declared, conf.max_photo_bytes)
        content_range = request.headers.get("Content-Range")
        if content_range is None:
            # receive_upload also counts what arrives: a chunked body declares nothing.
            path, digest = service.receive_upload(
                store, sha256, request.stream, max_bytes=conf.max_photo_bytes, declared_length=declared
            )
            created = service.store_photo(
                session,
                clock(),
                g.principal,
                store,
                sha256,
                path,
                max_pixels=conf.max_photo_pixels,
                max_decode_bytes=conf.max_decode_bytes,
                digest=digest,
            )
            return _answer(sha256, 201 if created else 200)
        start, end, total = _parse_content_range(content_range)
        received = service.receive_part(
            store,
            sha256,
            request.stream,
            start=start,
            end=end,
            total=total,
            max_bytes=conf.max_photo_bytes,
            declared_length=declared,
        )
        if received < total:
            return _progress(sha256, received, total)
        created = service.complete_upload(
            session,
            clock(),
            g.principal,
            store,
            sha256,
            max_pixels=conf.max_photo_pixels,
            max_decode_bytes=conf.max_decode_bytes,
        )
        return _answer(sha256, 201 if created else 200)

    @needs_transaction  # "held" is judged with the photo's row locked against the orphan sweep
    @authenticated
    @blp.doc(
        operationId="probePhoto",
        parameters=[_SHA_PARAM],
        responses={
            "200": {"description": "服务器已有此照片"},
            "308": {"description": "分段上传进行中；Range 头给出已收到的范围", "headers": _RANGE_HEADER},
            "404": {"description": "服务器没有此照片，也没有它的分段"},
        },
    )
    def head(self, sha256: str):
        """查询照片是否已上传、分段上传进度"""
        state, count = service.upload_state(db(), _store(), sha256)
        if state == "partial":
            return _progress(sha256, count, None, body=False)
        response = Response(status=200 if state == "held" else 404)
        if state == "held":
            response.headers["ETag"] = f'"{sha256}"'
        return response

    @authenticated
    @blp.doc(operationId="getPhoto", parameters=[_SHA_PARAM])
    @blp.response(200, PhotoOut)
    @blp.alt_response(404, description="照片不存在，或调用者无权查看（不区分）")
    def get(self, sha256: str):
        """照片元数据：尺寸、EXIF 拍摄时间与 GPS（WGS-84）、上传者、与所属记录的位置时间核对"""
        return service.describe_photo(db(), g.principal, sha256, geofence_m=settings().geofence_meters)


def _send(sha: str, kind: str):
    info = service.photo_file(db(), g.principal, sha, kind)
    store = _store()
    if hasattr(store, "path"):
        # The filesystem store hands over the path: sendfile, Range requests, a known length.
        source = store.path(sha, kind)
        if not source.is_file():
            raise PhotoNotFound(extra={"sha256": sha, "kind": kind})
    else:
        source = store.open(sha, kind)  # S3: a stream
    response = send_file(
        source,
        mimetype=info["mime"],
        etag=sha,
        conditional=True,
        max_age=None,
        download_name=f"{sha}{'.jpg' if kind == 'thumb' else ''}",
    )
    response.headers["Cache-Control"] = _CACHE
    return response


@blp.route("/<sha256>/thumb")
@authenticated
@blp.doc(
    operationId="getPhotoThumb",
    parameters=[_SHA_PARAM],
    responses={
        "200": {
            "description": "JPEG 缩略图，最长边不超过 512 像素，已按 EXIF 方向摆正",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "If-None-Match 命中"},
        "404": {"description": "照片不存在，或调用者无权查看"},
    },
)
def get_thumb(sha256: str):
    """照片缩略图"""
    return _send(sha256, "thumb")


@blp.route("/<sha256>/original")
@authenticated
@blp.doc(
    operationId="getPhotoOriginal",
    parameters=[_SHA_PARAM],
    responses={
        "200": {
            "description": "照片原始字节",
            "content": {
                m: {"schema": {"type": "string", "format": "binary"}} for m in ("image/jpeg", "image/png", "image/heic")
            },
        },
        "304": {"description": "If-None-Match 命中"},
        "404": {"description": "照片不存在，或调用者无权查看"},
    },
)
def get_original(sha256: str):
    """照片原图"""
    return _send(sha256, "original")
