"""The reference sync client: a phone's side of SYNC_PROTOCOL.md as a library and a command-line
tool (``python -m sync``). It speaks HTTP only and imports nothing of the server."""

from sync.client.client import CLIENT_VERSION, NotLoggedIn, ProtocolError, PullReport, PushReport, SyncClient
from sync.client.transport import AuthRequired, HTTPProblem, RetryLater, SyncError, Unreachable

__all__ = [
    "CLIENT_VERSION",
    "AuthRequired",
    "HTTPProblem",
    "NotLoggedIn",
    "ProtocolError",
    "PullReport",
    "PushReport",
    "RetryLater",
    "SyncClient",
    "SyncError",
    "Unreachable",
]
