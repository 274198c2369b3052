"""The HTTP layer every adapter plugin shares: timeouts, tokens, rate limits, error mapping.

- One `httpx.AsyncClient` per plugin, explicit timeouts (`new_client`).
- OAuth tokens cached and refreshed before expiry (`TokenCache`), with tenacity retrying only
  the token call inside one activity (a Temporal retry would redo the whole activity).
- Responses mapped to the hub's errors (`check`): 429 and 5xx are `TransientError` (honouring
  `Retry-After`), other 4xx are `PermanentError` carrying the remote message.
- Transport failures (`send`): a request that never left is transient; one that may have
  reached the server is `AmbiguousOutcomeError` when the call has a side effect that must not
  be repeated (buying a label), else transient.
- Per (account, operation) token buckets (`RateLimiter`) that follow the remote's signals.
Secrets never appear in messages or logs: errors quote the remote's message, not the request.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
REFRESH_MARGIN_SECONDS = 60.0


def new_client(
    base_url: str, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, **kwargs: object
) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, **kwargs)  # type: ignore[arg-type]


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


MessageOf = Callable[[httpx.Response], str]


def default_message(response: httpx.Response) -> str:
    """The remote's own words, from the common error shapes (problem+json, errors[], message)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])
        errors = body.get("errors") or body.get("response", {}).get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            if isinstance(first, dict):
                return str(first.get("message") or first.get("detail") or first)
            return str(first)
    return str(body)[:300]


def check(
    response: httpx.Response, action: str, message_of: MessageOf = default_message
) -> httpx.Response:
    """Return the response if 2xx, else raise the hub error its status calls for."""
    if response.is_success:
        return response
    status = response.status_code
    message = f"{action}: HTTP {status}: {message_of(response)}"
    if status == 429:
        raise TransientError(message, retry_after=retry_after_seconds(response))
    if status >= 500 or status == 408:
        raise TransientError(message, retry_after=retry_after_seconds(response))
    raise PermanentError(message)


async def send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    action: str,
    side_effect: bool = False,
) -> httpx.Response:
    """Send once. `side_effect=True` makes a maybe-delivered request ambiguous, not retryable."""
    try:
        return await client.send(request)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(f"{action}: could not connect ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        if side_effect:
            raise AmbiguousOutcomeError(
                f"{action}: no answer after the request was sent ({type(exc).__name__})"
            ) from None
        raise TransientError(f"{action}: {type(exc).__name__}") from None


# --------------------------------------------------------------------------- tokens


@dataclass
class Token:
    value: str
    expires_at: float
    """time.monotonic() deadline."""


TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]
"""Returns (access token, lifetime in seconds)."""


@dataclass
class TokenCache:
    """Caches one access token; refreshes it before expiry, once, however many callers wait."""

    fetch: TokenFetcher
    margin_seconds: float = REFRESH_MARGIN_SECONDS
    _token: Token | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self) -> str:
        token = self._token
        if token is not None and time.monotonic() < token.expires_at - self.margin_seconds:
            return token.value
        async with self._lock:
            token = self._token
            if token is None or time.monotonic() >= token.expires_at - self.margin_seconds:
                token = await self._fetch_with_retry()
                self._token = token
            return token.value

    def invalidate(self) -> None:
        """After a 401: the token was revoked or expired early."""
        self._token = None

    async def _fetch_with_retry(self) -> Token:
        # Token calls are idempotent and cheap: retry blips here rather than fail the activity.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        ):
            with attempt:
                value, lifetime = await self.fetch()
                return Token(value=value, expires_at=time.monotonic() + lifetime)
        raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- rate limits


@dataclass
class Bucket:
    rate_per_second: float
    burst: float
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per (account, operation). Starts from documented limits and follows the
    remote's own figure when it sends one (e.g. Amazon's `x-amzn-RateLimit-Limit`). In-process:
    across workers, Temporal's task-queue rate limit is the cap."""

    def __init__(self, defaults: dict[str, tuple[float, float]]) -> None:
        self._defaults = defaults
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, account: str, operation: str) -> None:
        while True:
            async with self._lock:
                bucket = self._bucket(account, operation)
                now = time.monotonic()
                bucket.tokens = min(
                    bucket.burst, bucket.tokens + (now - bucket.updated) * bucket.rate_per_second
                )
                bucket.updated = now
                if bucket.tokens >= 1:
                    bucket.tokens -= 1
                    return
                wait = (1 - bucket.tokens) / bucket.rate_per_second
            await asyncio.sleep(wait)

    def observe(
        self, account: str, operation: str, *, rate_per_second: float | None = None
    ) -> None:
        """Adopt the rate the remote says applies now."""
        if rate_per_second and rate_per_second > 0:
            self._bucket(account, operation).rate_per_second = rate_per_second

    def drain(self, account: str, operation: str) -> None:
        """After a 429: the remote's bucket is empty, so is ours."""
        self._bucket(account, operation).tokens = 0

    def _bucket(self, account: str, operation: str) -> Bucket:
        key = (account, operation)
        if key not in self._buckets:
            rate, burst = self._defaults.get(operation, self._defaults.get("*", (5.0, 10.0)))
            self._buckets[key] = Bucket(rate, burst, burst, time.monotonic())
        return self._buckets[key]
