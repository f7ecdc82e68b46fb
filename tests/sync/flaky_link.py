"""FlakyLink: a TCP relay standing for a village's signal between sync clients and a live server.

It can be offline, lose an answer after the server sent it, cut a request part-way, cut an answer
inside its headers, or stand in for a busy gateway (503 + Retry-After); faults are armed per request
(``fail``). The client tests use it (tests/sync/test_client.py); so can a fault or soak run of many
phones against a werkzeug or gunicorn server."""

from __future__ import annotations

import socket
import struct
import threading


class FlakyLink:
    """A TCP relay between the clients and a live server, one request per connection: each is sent on
    with ``Connection: close``, so the server (werkzeug, or gunicorn with keep-alive) ends the answer by
    closing. ``seen`` lists every request that came through with its headers, body and the status the
    client got (None: it got nothing)."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.offline = False
        self.faults: list[dict] = []
        self.seen: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def fail(self, kind: str, request_prefix: str, *, nth: int = 1, **options) -> None:
        """Arm one fault for the ``nth`` request starting with ``request_prefix``: ``lose_answer``
        (the server handles it, the client gets no answer), ``cut`` (only ``after`` bytes of the body
        reach the server, then the connection breaks), ``busy`` (503 with ``retry_after``),
        ``cut_answer`` (the server handles it; the answer breaks off ``into`` bytes into its header
        line ``before``, or right after the status line when ``before`` is None)."""
        with self.lock:
            self.faults.append({"kind": kind, "prefix": request_prefix, "nth": nth, "matched": 0} | options)

    def requests(self, prefix: str) -> list[dict]:
        return [r for r in self.seen if r["line"].startswith(prefix)]

    def close(self) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _fault_for(self, line: str) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if line.startswith(fault["prefix"]):
                    fault["matched"] += 1
                    if fault["matched"] == fault["nth"]:
                        self.faults.remove(fault)
                        return fault
        return None

    def _relay(self, conn: socket.socket) -> None:
        with conn:
            if self.offline:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
                return
            head, body = _read_request(conn)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
            head = _closing(lines)
            entry = {"line": lines[0], "headers": headers, "body": body, "status": None, "forwarded": len(body)}
            self.seen.append(entry)
            fault = self._fault_for(lines[0])
            if fault and fault["kind"] == "busy":
                conn.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n" % fault["retry_after"]
                )
                entry["status"] = 503
                return
            with socket.create_connection(self.upstream) as upstream:
                if fault and fault["kind"] == "cut":
                    upstream.sendall(head + body[: fault["after"]])
                    upstream.shutdown(socket.SHUT_WR)
                    _read_all(upstream)  # the server has dealt with the broken request before the phone retries
                    entry["forwarded"] = fault["after"]
                    return
                upstream.sendall(head + body)
                answer = _read_all(upstream)
            if fault and fault["kind"] == "lose_answer":
                return
            entry["status"] = int(answer.split(b" ", 2)[1]) if answer else None
            if fault and fault["kind"] == "cut_answer":
                answer = _cut_in_headers(answer, fault.get("before"), fault.get("into", 0))
                entry["answer"] = answer
            conn.sendall(answer)


def _read_request(conn: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        block = conn.recv(65536)
        if not block:
            return None, b""
        data += block
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        block = conn.recv(65536)
        if not block:
            break
        body += block
    return head + b"\r\n\r\n", body


def _closing(lines: list[str]) -> bytes:
    """The request head again, asking the server to close the connection after its answer."""
    kept = [line for line in lines if line and not line.lower().startswith("connection:")]
    return ("\r\n".join(kept) + "\r\nConnection: close\r\n\r\n").encode("latin-1")


def _cut_in_headers(answer: bytes, before: str | None, into: int) -> bytes:
    """The answer up to ``into`` bytes into its header line ``before`` (None: the first header line)."""
    head = answer.partition(b"\r\n\r\n")[0]
    at = head.index(b"\r\n") if before is None else head.lower().index(b"\r\n" + before.lower().encode() + b":")
    return answer[: at + 2 + into]


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while block := sock.recv(65536):
        chunks.append(block)
    return b"".join(chunks)
