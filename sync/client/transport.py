"""HTTP for the sync client: one attempt (``send``) or several with backoff (``request``).

Connection errors, timeouts, 5xx and 429 are worth another try; Retry-After is honoured. So is an
answer cut short: a success answer of this API always carries a JSON body, and one whose body does
not parse broke off on the way (or never came from the server: a captive portal's page). Every
other answer goes back to the caller, which knows what it means for its call."""

from __future__ import annotations

import gzip
import json
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests

RETRY_STATUSES = {429, 500, 502, 503, 504}
# Bodies smaller than this are not worth compressing.
GZIP_FROM_BYTES = 1024


class SyncError(Exception):
    """Base of what the client raises."""


class Unreachable(SyncError):
    """No answer from the server after every attempt (no signal, server down). Nothing was lost:
    whatever was being sent stays queued and goes again next time."""


class RetryLater(SyncError):
    """The server is busy or down (429 / 5xx) and still was after every attempt, or asks to wait
    longer than this client is willing to now; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class HTTPProblem(SyncError):
    """A final error answer (problem+json): ``status``, ``code`` and the whole ``body``."""

    def __init__(self, response: requests.Response):
        self.status = response.status_code
        try:
            self.body = response.json()
        except ValueError:
            self.body = {"detail": response.text[:500]}
        self.code = self.body.get("code") if isinstance(self.body, dict) else None
        super().__init__(
            f"{self.status} {self.code or ''} {self.body.get('detail', '') if isinstance(self.body, dict) else ''}".strip()
        )


class AuthRequired(HTTPProblem):
    """401: not logged in, token expired or device revoked (``code`` says which). Log in again."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class TransientFailure(Exception):
    """One attempt failed in a way another attempt may cure (raised by ``send``, handled by callers)."""

    def __init__(self, reason: str, retry_after: float | None = None, response: requests.Response | None = None):
        super().__init__(reason)
        self.retry_after = retry_after
        self.response = response


class Transport:
    """Requests to one server with one bearer token.

    ``max_attempts`` tries per call; between them ``backoff * 2**n`` seconds (with jitter, at most
    ``max_backoff``), or what Retry-After says when that is no more than ``max_wait``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_wait: float = 300.0,
        timeout: tuple[float, float] = (10.0, 120.0),
        sleep=time.sleep,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep
        self.http = session or requests.Session()

    def url(self, path: str) -> str:
        return self.base_url + path

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        data: bytes | None = None,
        headers: dict | None = None,
        params: dict | None = None,
        compress: bool = False,
    ) -> requests.Response:
        """One attempt. Raises TransientFailure for what another attempt may cure; returns every other
        answer (the body already read: requests reads it unless asked to stream). The JSON body of a
        success answer is parsed here, once, to tell a whole answer from one cut short, and kept as
        ``response.answer``."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
            if compress and len(data) >= GZIP_FROM_BYTES:
                data = gzip.compress(data, 6)
                headers["Content-Encoding"] = "gzip"
        try:
            # The API never redirects; and 308 is the photo upload's "go on" answer, not a redirect.
            response = self.http.request(
                method,
                self.url(path),
                data=data,
                headers=headers,
                params=params,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            raise TransientFailure(f"{type(err).__name__}: {err}") from err
        except requests.exceptions.ChunkedEncodingError as err:  # the answer broke off half-way
            raise TransientFailure(f"broken answer: {err}") from err
        if response.status_code in RETRY_STATUSES:
            raise TransientFailure(
                f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("Retry-After")), response
            )
        if method != "HEAD" and 200 <= response.status_code < 300 and response.status_code != 204:
            try:
                response.answer = response.json()
            except ValueError as err:
                # http.client takes a connection closed inside the headers for their end, and without a
                # Content-Length reads the body to the end of the stream: a 200 with nothing, or a part.
                raise TransientFailure(
                    f"answer cut short: HTTP {response.status_code} with {len(response.content)} "
                    f"bytes that are not JSON ({err})"
                ) from err
        return response

    def wait(self, attempt: int, retry: TransientFailure) -> None:
        """Sleep before attempt ``attempt + 1``, or raise RetryLater when the server asks for too long."""
        if retry.retry_after is not None:
            if retry.retry_after > self.max_wait:
                raise RetryLater(
                    f"服务器要求 {retry.retry_after:.0f} 秒后再试",
                    retry.retry_after,
                    retry.response.status_code if retry.response is not None else None,
                )
            self.sleep(retry.retry_after)
            return
        delay = min(self.max_backoff, self.backoff * (2**attempt))
        self.sleep(delay * random.uniform(0.5, 1.0))

    def give_up(self, retry: TransientFailure) -> SyncError:
        if retry.response is None:
            return Unreachable(f"无法连接服务器 {self.base_url}（{retry}）")
        return RetryLater(
            f"服务器暂时不可用（HTTP {retry.response.status_code}）", retry.retry_after, retry.response.status_code
        )

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """``send`` with retries. Raises Unreachable / RetryLater when every attempt failed,
        AuthRequired for 401; returns every other answer."""
        for attempt in range(self.max_attempts):
            try:
                response = self.send(method, path, **kwargs)
            except TransientFailure as retry:
                if attempt + 1 >= self.max_attempts:
                    raise self.give_up(retry) from None
                self.wait(attempt, retry)
                continue
            if response.status_code == 401:
                raise AuthRequired(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def expect(response: requests.Response, *statuses: int) -> requests.Response:
    """The response when its status is one of ``statuses``, else HTTPProblem."""
    if response.status_code not in statuses:
        if response.status_code == 401:
            raise AuthRequired(response)
        raise HTTPProblem(response)
    return response
