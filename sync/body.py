"""Reading a push body: at most the advertised size after decompression, never inflating a gzip bomb whole."""

from __future__ import annotations

import zlib

from core.errors import DomainError, TooLarge
from core.inputs import BadJson, Json, read_json

READ_CHUNK = 64 * 1024


class BatchTooLarge(TooLarge):
    code = "sync.batch_too_large"
    title = "同步批次过大，请拆分后重试"


class BadBody(DomainError):
    status = 400
    code = "sync.bad_body"
    title = "请求体不是有效的 JSON（或不是有效的 gzip）"


def read_json_body(stream, *, content_encoding: str | None, content_length: int | None, limit: int) -> Json:
    """Parse the body as JSON (core.inputs.read_json), refusing more than ``limit`` bytes of JSON text.

    Compressed input is inflated chunk by chunk with ``max_length``, so a bomb costs at most
    ``limit`` bytes of memory before it is refused."""
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise BadBody(f"不支持的 Content-Encoding：{content_encoding}")
    if encoding != "gzip" and content_length is not None and content_length > limit:
        raise BatchTooLarge(f"请求体 {content_length} 字节，超过上限 {limit} 字节")
    out = bytearray()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while True:
                chunk = stream.read(READ_CHUNK)
                if not chunk:
                    break
                data = chunk
                while data:
                    out += inflater.decompress(data, limit + 1 - len(out))
                    if len(out) > limit:
                        raise BatchTooLarge(f"解压后超过上限 {limit} 字节")
                    data = inflater.unconsumed_tail
            out += inflater.flush()
        except zlib.error as err:
            raise BadBody(f"gzip 数据无效：{err}") from err
        if not inflater.eof:
            raise BadBody("gzip 数据不完整")
        if len(out) > limit:
            raise BatchTooLarge(f"解压后超过上限 {limit} 字节")
    else:
        while True:
            chunk = stream.read(READ_CHUNK)
            if not chunk:
                break
            out += chunk
            if len(out) > limit:
                raise BatchTooLarge(f"请求体超过上限 {limit} 字节")
    try:
        return read_json(out)
    except BadJson as err:
        raise BadBody(err.detail) from err
