"""Persistent connections stay usable whatever the answer: the request body is read before it goes out.

Many answers come before the view reads the body (401, 403, 404, 405, a photo already held, a bad
Content-Range, …). The unread bytes stay on the connection; gunicorn drains at most 64 KiB of them
and otherwise closes the connection after answering ``Connection: keep-alive``, so the client's next
request on it gets no answer. The app cannot tell gunicorn to close instead (WSGI forbids hop-by-hop
headers and gunicorn drops them), so this middleware reads and drops what the app left, up to
``limit`` bytes: the largest body any endpoint accepts. A body beyond that is left unread and the
server closes the connection after the answer, as it must.
"""

from __future__ import annotations

from typing import Callable, Iterable

from werkzeug.exceptions import ClientDisconnected

_BLOCK = 64 * 1024


class _CountingInput:
    """``wsgi.input`` that counts what is read from it, so the drain never reads past the body (on a
    plain socket that would wait for bytes that never come)."""

    def __init__(self, stream):
        self._stream = stream
        self.consumed = 0
        self.ended = False

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        self._count(data, size)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline() if size is None or size < 0 else self._stream.readline(size)
        self._count(data, size)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self):
        while line := self.readline():
            yield line

    def _count(self, data: bytes, size: int | None) -> None:
        self.consumed += len(data)
        if not data and size != 0:
            self.ended = True


class DrainUnreadBody:
    """WSGI middleware: after the app has made its answer and before it is sent, read and drop the
    rest of the request body, up to ``limit`` bytes."""

    def __init__(self, app: Callable, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = body
        result = self.app(environ, start_response)
        try:
            self._drain(environ, body)
        except (OSError, ValueError, ClientDisconnected):
            pass  # the client went away: nothing is left to keep usable
        return result

    def _drain(self, environ: dict, body: _CountingInput) -> None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            length = None
        if length is not None:
            remaining = length - body.consumed
            if remaining > self.limit:
                return
            while remaining > 0 and (block := body.read(min(_BLOCK, remaining))):
                remaining -= len(block)
        elif environ.get("wsgi.input_terminated"):
            # A chunked body: the server ends the stream at its last chunk.
            drained = 0
            while not body.ended and drained <= self.limit and (block := body.read(_BLOCK)):
                drained += len(block)
