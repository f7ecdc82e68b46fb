"""A TCP relay that loses answers the way a village's mobile signal does: between the phones and the API,
each answer is, at random, passed through, lost (the server did the work, the phone heard nothing), cut
inside its status line and headers, or cut inside its body; and a new connection may be refused outright.
Connections are persistent (keep-alive) in both directions; a fault ends the connection, as a lost signal
would. ``fault_rate`` is the share of answers (and new connections) that meet a fault.
Used by the soak (bench/soak.py) and the fault test that runs it small (tests/sync/test_faults.py)."""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections import Counter

FAULTS = ("lose_answer", "cut_headers", "cut_body", "refuse")


class ChaosRelay:
    def __init__(self, upstream: tuple[str, int], *, fault_rate: float = 0.0, seed: int = 0):
        self.upstream = upstream
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _draw(self, kinds: tuple[str, ...]) -> str | None:
        """A fault of these kinds, at the relay's rate spread over all kinds."""
        with self.lock:
            if self.rng.random() >= self.fault_rate * len(kinds) / len(FAULTS):
                return None
            fault = self.rng.choice(kinds)
            self.counts[fault] += 1
            return fault

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, phone: socket.socket) -> None:
        if self._draw(("refuse",)):
            phone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            phone.close()
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            phone.close()
            return
        server.settimeout(None)
        asked = threading.Event()  # the phone sent something since the last answer began

        def upstream():  # phone -> server, as it comes
            try:
                while chunk := phone.recv(65536):
                    asked.set()
                    server.sendall(chunk)
            except OSError:
                pass
            finally:
                _shut(server)

        threading.Thread(target=upstream, daemon=True).start()
        try:
            while chunk := server.recv(65536):
                if asked.is_set():  # the first bytes of an answer: its fate is drawn now
                    asked.clear()
                    fault = self._draw(("lose_answer", "cut_headers", "cut_body"))
                    if fault == "lose_answer":
                        break  # the server did the work; the phone never hears of it
                    if fault:
                        end = chunk.find(b"\r\n\r\n")
                        end = len(chunk) if end < 0 else end
                        if fault == "cut_headers" or end + 4 >= len(chunk):
                            cut = self.rng.randrange(1, max(end, 2))
                        else:
                            cut = self.rng.randrange(end + 4, len(chunk))
                        phone.sendall(chunk[:cut])
                        break
                phone.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(phone)
            _shut(server)
            phone.close()
            server.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
