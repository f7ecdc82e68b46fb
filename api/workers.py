"""The gunicorn worker the API is served with: gthread that takes a new connection only with a thread free,
and whose freed threads take turns between new connections and kept-alive ones.

gunicorn's gthread worker (ThreadWorker) accepts every connection it can, up to worker_connections, and
queues it in its thread pool even while all its threads are busy. With several workers on one listening
socket a busy worker thereby takes connections an idle one could have answered at once: with 32 phones
pushing, one worker of two served the last 29 batches while the other sat idle (issue 23: more phones were
slower than fewer). BalancedThreadWorker stops listening while its requests in flight fill its threads and
listens again when one comes back, so a new connection waits in the kernel's listen backlog for the first
worker with a free thread (join the shortest queue).

Kept-alive connections are the worker's own: their next request cannot go to another worker. Served ahead
of the backlog as they come (gthread's way), phones sending requests back to back on them kept every thread
busy, so the worker never listened and a phone connecting meanwhile waited until they all stopped (issue
23: the first incremental pull of 32 phones at once, p99 1 s against 40 ms for the next ones). Served
behind the backlog, a flood of new connections would starve them instead. So a request on a connection the
worker holds waits, while no thread is free, in the worker's own queue (first come, first served), and
each thread that comes back takes turns: a new connection from the backlog if one waits, then the oldest
request of that queue, and so on. Neither kind overtakes the other by more than one request per turn.
"""

from __future__ import annotations

from collections import deque

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Requests handed to the thread pool whose return the main loop has not yet seen. Everything below
        # runs on the main thread (the pool's done-callback defers to it), so no lock.
        self.in_flight = 0
        # Connections the worker holds with a request ready, waiting for a thread (oldest first).
        self.waiting: deque = deque()
        # Whose turn the next freed thread is: a new connection's (True) or a waiting request's.
        self.new_connection_next = True

    def has_free_thread(self) -> bool:
        return self.in_flight < self.cfg.threads

    def set_accept_enabled(self, enabled):
        # run() asks to listen whenever the worker holds fewer than worker_connections (every pass of its
        # loop while not listening, so listening resumes right after a request comes back); a free thread
        # is needed as well. Stopping — at shutdown, or with no thread free — is always granted.
        super().set_accept_enabled(enabled and self.has_free_thread())

    def enqueue_req(self, conn):
        # Every way a connection reaches a thread comes here: accepted, kept alive and readable, deferred
        # and readable, or answered with its next request already read.
        if self.has_free_thread():
            self.submit(conn)
        else:
            self.waiting.append(conn)

    def submit(self, conn) -> None:
        super().enqueue_req(conn)
        self.in_flight += 1
        if not self.has_free_thread():
            self.set_accept_enabled(False)

    def finish_request(self, conn, fs):
        # Before the parent's handling, which hands a connection with a request already read back to
        # enqueue_req and so must see this thread free.
        self.in_flight -= 1
        super().finish_request(conn, fs)
        self.fill_free_threads()

    def fill_free_threads(self) -> None:
        """Give each free thread the next request by turns: a new connection, then a waiting one."""
        while self.has_free_thread():
            if (self.new_connection_next or not self.waiting) and self.accept_one():
                self.new_connection_next = False
                continue
            if not self.waiting:
                return
            self.submit(self.waiting.popleft())
            self.new_connection_next = True

    def accept_one(self) -> bool:
        """Take a connection from the listen backlog, if one waits and this worker may take more."""
        if not self.alive or self.nr_conns >= self.worker_connections:
            return False
        before = self.nr_conns
        for listener in self.sockets:
            if listener.gettimeout() != 0.0:
                listener.setblocking(False)
            super().accept(listener)  # no connection waiting: EAGAIN, which it ignores
            if self.nr_conns > before:
                return True
        return False

    def accept(self, listener):
        # The listener's readiness may already be among the events being dispatched when a kept-alive
        # connection's request, dispatched just before it, took the last thread: leave the connection
        # in the backlog for another worker.
        if self.has_free_thread():
            super().accept(listener)
