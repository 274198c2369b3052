"""The shared HTTP layer, against respx-mocked servers."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError
from hub.http import RateLimiter, TokenCache, check, new_client, retry_after_seconds, send


def test_retry_after_seconds_and_dates():
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert (
        retry_after_seconds(
            httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        )
        == 0
    )
    assert retry_after_seconds(httpx.Response(429)) is None


@pytest.mark.parametrize(
    ("status", "error", "body"),
    [
        (429, TransientError, {"message": "Too Many Requests"}),
        (503, TransientError, {"message": "down"}),
        (
            400,
            PermanentError,
            {"errors": [{"code": "120100", "message": "Missing or invalid ship to postal code"}]},
        ),
        (
            422,
            PermanentError,
            {"type": "about:blank", "title": "Unprocessable", "detail": "Weight over 31.5 kg"},
        ),
    ],
)
def test_check_maps_status_to_errors(status, error, body):
    response = httpx.Response(status, json=body, headers={"Retry-After": "3"})
    with pytest.raises(error) as info:
        check(response, "buy label")
    assert f"HTTP {status}" in str(info.value)
    if error is TransientError:
        assert info.value.retry_after == 3
    else:
        assert "postal code" in str(info.value) or "31.5 kg" in str(info.value)


@respx.mock
async def test_send_distinguishes_unsent_from_ambiguous():
    async with new_client("https://carrier.example") as client:
        respx.post("https://carrier.example/connect").mock(
            side_effect=httpx.ConnectError("refused")
        )
        with pytest.raises(TransientError, match="could not connect"):
            await send(
                client, client.build_request("POST", "/connect"), action="buy", side_effect=True
            )
        respx.post("https://carrier.example/slow").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(AmbiguousOutcomeError, match="after the request was sent"):
            await send(
                client, client.build_request("POST", "/slow"), action="buy", side_effect=True
            )
        with pytest.raises(TransientError, match="ReadTimeout"):
            await send(client, client.build_request("POST", "/slow"), action="track")


async def test_token_cache_refreshes_once_before_expiry():
    calls = 0

    async def fetch():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return f"token-{calls}", 3600

    cache = TokenCache(fetch)
    assert set(await asyncio.gather(*(cache.get() for _ in range(10)))) == {"token-1"}
    assert calls == 1
    cache.invalidate()
    assert await cache.get() == "token-2"
    short = TokenCache(fetch, margin_seconds=3600)  # every token is "about to expire"
    await short.get()
    await short.get()
    assert calls == 4


async def test_token_fetch_retries_transient_failures_only():
    attempts = 0

    async def flaky():
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise TransientError("503")
        return "ok", 60

    assert await TokenCache(flaky).get() == "ok"

    async def denied():
        raise PermanentError("invalid_client")

    with pytest.raises(PermanentError):
        await TokenCache(denied).get()


async def test_rate_limiter_spaces_calls_and_follows_remote_rate():
    limiter = RateLimiter({"confirm": (20.0, 2.0)})
    started = time.monotonic()
    for _ in range(4):
        await limiter.acquire("acct", "confirm")
    assert time.monotonic() - started >= 0.08  # burst of 2, then 2 more at 20/s
    limiter.observe("acct", "confirm", rate_per_second=1000)
    limiter.drain("acct", "confirm")
    started = time.monotonic()
    await limiter.acquire("acct", "confirm")
    assert time.monotonic() - started < 0.05
