"""Thin SP-API client over hub.http: Login with Amazon tokens, per-operation rate limits and
error mapping; nothing else.

References:
- Token: "Connect to the SP-API", step 1 (developer-docs.amazon.com/sp-api/docs/
  connecting-to-the-selling-partner-api): ``POST https://api.amazon.com/auth/o2/token`` form
  ``grant_type=refresh_token, refresh_token, client_id, client_secret`` ->
  ``{access_token, token_type, expires_in, refresh_token}``; calls send it as
  ``x-amz-access-token``. Access tokens live one hour.
- Usage plans: the operation descriptions in ``orders_2026-01-01.json`` (searchOrders 0.0056 rps
  burst 20, getOrder 0.5/30) and ``ordersV0.json`` (confirmShipment 2/10), plus the
  ``x-amzn-RateLimit-Limit`` response header (requests per second applied now).
- Errors: ``ErrorList {errors: [{code, message, details}]}`` in both specs. ordersV0 documents 401
  for a bad token; in practice an expired or revoked token answers 403 ``Unauthorized`` with
  details "The access token you provided has expired." (spec: "Expired Token" under 403).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from hub.errors import PermanentError, TransientError
from hub.http import (
    RateLimiter,
    TokenCache,
    check,
    default_message,
    new_client,
    retry_after_seconds,
    send,
)
from plugins.marketplaces.amazon.confirmation import looks_already_confirmed
from plugins.marketplaces.amazon.settings import AmazonSettings

log = logging.getLogger(__name__)

OPERATION_LIMITS: dict[str, tuple[float, float]] = {
    "searchOrders": (0.0056, 20.0),
    "getOrder": (0.5, 30.0),
    "confirmShipment": (2.0, 10.0),
}
"""Documented default usage plans: operation -> (requests per second, burst)."""
RATE_LIMIT_HEADER = "x-amzn-ratelimit-limit"
SEARCH_ORDERS_PATH = "/orders/2026-01-01/orders"
USER_AGENT = "fulfilment-hub/0.1 (Language=Python)"


class PossiblyAlreadyConfirmed(PermanentError):
    """confirmShipment refused with a "package not found / order already fulfilled" answer:
    the package may already be recorded. Check the order's packages before believing it."""


def amazon_errors(response: httpx.Response) -> list[dict[str, str]]:
    """The ``errors`` of an SP-API error body, each with code, message and details as text."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        {key: str(error.get(key) or "") for key in ("code", "message", "details")}
        for error in errors
        if isinstance(error, dict)
    ]


def amazon_message(response: httpx.Response) -> str:
    parts = [
        f"{e['code']}: {e['message']}" + (f" ({e['details']})" if e["details"] else "")
        for e in amazon_errors(response)
    ]
    return "; ".join(parts) or default_message(response)


class AmazonClient:
    def __init__(
        self,
        settings: AmazonSettings,
        *,
        limiter: RateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._account = settings.account
        self._http = http or new_client(
            settings.endpoint, headers={"user-agent": USER_AGENT, "accept": "application/json"}
        )
        self.limiter = limiter or RateLimiter(OPERATION_LIMITS)
        self._rates = {operation: rate for operation, (rate, _) in OPERATION_LIMITS.items()}
        self.tokens = TokenCache(self._exchange_refresh_token)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ operations

    async def search_orders(self, params: dict[str, str]) -> Any:
        response = await self._call("searchOrders", "GET", SEARCH_ORDERS_PATH, params=params)
        if response.status_code == 400 and "paginationToken" in params:
            # The same query succeeded without the token, so the token is what was refused.
            raise PermanentError(
                "searchOrders: Amazon refused the page token (tokens expire after 24 hours); "
                "restart the window from updated_after without page_token: "
                + amazon_message(response)
            )
        return _json(check(response, "searchOrders", amazon_message), "searchOrders")

    async def get_order(self, order_id: str, included_data: tuple[str, ...] = ()) -> Any:
        params = {"includedData": ",".join(included_data)} if included_data else None
        path = f"/orders/2026-01-01/orders/{quote(order_id, safe='')}"
        response = await self._call("getOrder", "GET", path, params=params)
        return _json(check(response, "getOrder", amazon_message), "getOrder")

    async def confirm_shipment(self, order_id: str, body: dict[str, Any]) -> None:
        """204 on success. Not a side-effect call for hub.http: resending the same
        packageReferenceId edits that package ("Confirm the shipment status" guide), so a
        request whose answer was lost may safely go again."""
        path = f"/orders/v0/orders/{quote(order_id, safe='')}/shipmentConfirmation"
        response = await self._call("confirmShipment", "POST", path, json=body)
        if response.status_code == 400 and looks_already_confirmed(amazon_errors(response)):
            raise PossiblyAlreadyConfirmed(f"confirmShipment: HTTP 400: {amazon_message(response)}")
        check(response, "confirmShipment", amazon_message)

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send under the operation's rate limit; on a refused token refresh it and send once
        more. 429 raises here; any other answer goes back to the caller to check."""
        response = await self._send(operation, method, path, params=params, json=json)
        if _token_refused(response):
            log.info(
                "amazon %s: access token refused (HTTP %s), refreshing",
                operation,
                response.status_code,
            )
            self.tokens.invalidate()
            response = await self._send(operation, method, path, params=params, json=json)
        if response.status_code == 429:
            self.limiter.drain(self._account, operation)
            # Amazon rarely sends Retry-After; one token of the bucket is the honest wait.
            wait = retry_after_seconds(response) or 1 / self._rates[operation]
            raise TransientError(
                f"{operation}: HTTP 429: {amazon_message(response)}", retry_after=wait
            )
        return response

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
    ) -> httpx.Response:
        await self.limiter.acquire(self._account, operation)
        token = await self.tokens.get()
        request = self._http.build_request(
            method, path, params=params, json=json, headers={"x-amz-access-token": token}
        )
        response = await send(self._http, request, action=operation)
        self._observe(operation, response)
        return response

    def _observe(self, operation: str, response: httpx.Response) -> None:
        value = response.headers.get(RATE_LIMIT_HEADER)
        if value is None:
            return
        try:
            rate = float(value)
        except ValueError:
            return
        if rate > 0 and rate != float("inf"):
            self._rates[operation] = rate
            self.limiter.observe(self._account, operation, rate_per_second=rate)

    async def _exchange_refresh_token(self) -> tuple[str, float]:
        settings = self._settings
        request = self._http.build_request(
            "POST",
            settings.lwa_auth_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": settings.refresh_token.get_secret_value(),
                "client_id": settings.lwa_client_id,
                "client_secret": settings.lwa_client_secret.get_secret_value(),
            },
        )
        response = check(
            await send(self._http, request, action="LWA token exchange"), "LWA token exchange"
        )
        body = _json(response, "LWA token exchange")
        token = body.get("access_token") if isinstance(body, dict) else None
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        if (
            not isinstance(token, str)
            or not token
            or isinstance(lifetime, bool)
            or not isinstance(lifetime, int | float)
            or lifetime <= 0
        ):
            raise PermanentError("LWA token exchange: answer lacks access_token or expires_in")
        return token, float(lifetime)


def _token_refused(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    text = " ".join(" ".join(e.values()) for e in amazon_errors(response)).lower()
    return "access token" in text


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: the answer is not JSON") from None
