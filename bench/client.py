"""A phone (or a desk officer's browser) over HTTP: one keep-alive connection per client, like a phone
has; bodies are built before the clock starts, so what is timed is the request and its answer."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes  # as received (still gzip when the server compressed it)
    seconds: float
    first_byte_seconds: float | None = None

    def json(self):
        data = self.body
        if self.headers.get("content-encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return json.loads(data)


class Client:
    def __init__(self, base: str, token: str | None = None, *, connections: int = 1, timeout: float = 900):
        parts = urlsplit(base)
        self.pool = urllib3.HTTPConnectionPool(
            parts.hostname,
            parts.port,
            maxsize=connections,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=10, read=timeout),
        )
        self.token = token

    def _headers(self, extra: dict | None) -> dict:
        headers = {"Accept-Encoding": "identity"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | (extra or {})

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        started = time.perf_counter()
        response = self.pool.urlopen(
            method, path, body=body, headers=self._headers(headers), decode_content=False, preload_content=False
        )
        first = None
        chunks = []
        for chunk in response.stream(256 * 1024, decode_content=False):
            if first is None:
                first = time.perf_counter() - started
            chunks.append(chunk)
        response.release_conn()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.headers.items()},
            b"".join(chunks),
            time.perf_counter() - started,
            first,
        )

    def get(self, path: str, headers: dict | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, payload, *, gzipped: bool = False) -> Reply:
        return self.request("POST", path, *json_body(payload, gzipped=gzipped))

    def drain(self, method: str, path: str, headers: dict | None = None, save_to=None) -> Reply:
        """Stream a large answer without keeping it in memory (into ``save_to`` when given): body is left
        empty, its size goes in headers["x-bytes"]."""
        started = time.perf_counter()
        response = self.pool.urlopen(
            method, path, headers=self._headers(headers), decode_content=False, preload_content=False
        )
        first, size = None, 0
        sink = open(save_to, "wb") if save_to is not None else None
        try:
            for chunk in response.stream(256 * 1024, decode_content=False):
                if first is None:
                    first = time.perf_counter() - started
                size += len(chunk)
                if sink is not None:
                    sink.write(chunk)
        finally:
            if sink is not None:
                sink.close()
        response.release_conn()
        headers = {k.lower(): v for k, v in response.headers.items()} | {"x-bytes": size}
        return Reply(response.status, headers, b"", time.perf_counter() - started, first)


def json_body(payload, *, gzipped: bool = False) -> tuple[bytes, dict]:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if gzipped:
        data = gzip.compress(data, 6)
        headers["Content-Encoding"] = "gzip"
    return data, headers
