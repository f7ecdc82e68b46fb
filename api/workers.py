"""The gunicorn worker the API is served with: gthread that takes a new connection only with a thread free.

gunicorn's gthread worker (ThreadWorker) accepts every connection it can, up to worker_connections, and
queues it in its thread pool even while all its threads are busy. With several workers on one listening
socket a busy worker thereby takes connections an idle one could have answered at once: with 32 phones
pushing, one worker of two served the last 29 batches while the other sat idle (issue 23: more phones were
slower than fewer). BalancedThreadWorker stops listening while its requests in flight fill its threads and
listens again when one comes back, so a new connection waits in the kernel's listen backlog for the first
worker with a free thread (join the shortest queue). Connections it already holds — kept alive between
requests, or deferred until their first bytes come — are served by it as before: they are not new accepts.
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Requests handed to the thread pool whose return the main loop has not yet seen. enqueue_req and
        # finish_request both run on the main thread (the pool's done-callback defers to it), so no lock.
        self.in_flight = 0

    def has_free_thread(self) -> bool:
        return self.in_flight < self.cfg.threads

    def set_accept_enabled(self, enabled):
        # run() asks to listen whenever the worker holds fewer than worker_connections (every pass of its
        # loop while not listening, so listening resumes right after a request comes back); a free thread
        # is needed as well. Stopping — at shutdown, or with no thread free — is always granted.
        super().set_accept_enabled(enabled and self.has_free_thread())

    def enqueue_req(self, conn):
        super().enqueue_req(conn)
        self.in_flight += 1
        if not self.has_free_thread():
            self.set_accept_enabled(False)

    def finish_request(self, conn, fs):
        # Before the parent's handling, which hands a connection with a request already read back to
        # the pool (enqueue_req) and so must see this thread free.
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def accept(self, listener):
        # The listener's readiness may already be among the events being dispatched when a kept-alive
        # connection's request, dispatched just before it, took the last thread: leave the connection
        # in the backlog for another worker.
        if self.has_free_thread():
            super().accept(listener)
