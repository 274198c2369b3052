"""Thin client of the eBay Sell Fulfillment API over hub.http: OAuth, pacing, error mapping.
Nothing else.

References:
- Token: "Refreshing a User access token" (developer.ebay.com/api-docs/static/
  oauth-refresh-token-request.html): ``POST {api}/identity/v1/oauth2/token``, header
  ``Authorization: Basic base64(client_id:client_secret)``, form ``grant_type=refresh_token,
  refresh_token, scope`` (space-separated) -> ``{access_token, expires_in, token_type}``; User
  access tokens live two hours. OAuth errors are ``{error, error_description}``. The refresh
  grant is limited to 50,000 calls a day ("OAuth rate limits"): the token is cached.
- Calls: ``Authorization: Bearer <token>``; paths and bodies per ``sell_fulfillment_v1_oas3``
  v1.20.0 (getOrders, getOrder, getShippingFulfillments, createShippingFulfillment).
- Errors: every error answer is ``{"errors": [{errorId, domain, category, message,
  longMessage, parameters}]}`` (the contract's ``Error`` type). An expired or revoked access
  token answers 401 with errorId 1001 "Invalid access token". Call limits are daily quotas
  ("API Call Limits"); an exhausted one answers 429 with errorId 2001 "Too many requests."
  ("The request limit has been reached for the resource.").
"""

from __future__ import annotations

import base64
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
from plugins.marketplaces.ebay.settings import EbaySettings

log = logging.getLogger(__name__)

ORDERS_PATH = "/sell/fulfillment/v1/order"
DEFAULT_RATE = (5.0, 10.0)
"""Calls per second and burst: a courtesy pace. eBay publishes daily quotas only."""
CALL_LIMIT_ERRORS = frozenset({2001})
"""errorIds meaning the call quota is spent, whatever the HTTP status."""
ALREADY_FULFILLED = 34500
"""createShippingFulfillment: "Please use PUT operation for updating shipping fulfillment",
the answer to a second fulfillment of the same package."""


class FulfillmentExists(PermanentError):
    """createShippingFulfillment refused the package as one it already has."""


def ebay_errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, dict)]


def ebay_message(response: httpx.Response) -> str:
    """eBay's own words: each error's message, its long form when it adds to it, its id."""
    parts = []
    for error in ebay_errors(response):
        message = str(error.get("message") or "").strip()
        longer = str(error.get("longMessage") or "").strip()
        if longer and longer != message:
            message = f"{message} ({longer})" if message else longer
        parts.append(f"{message} [errorId {error.get('errorId')}]")
    return "; ".join(parts)[:500] or default_message(response)


def error_ids(response: httpx.Response) -> set[int]:
    ids = set()
    for error in ebay_errors(response):
        value = error.get("errorId")
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
    return ids


class EbayClient:
    def __init__(
        self,
        settings: EbaySettings,
        *,
        limiter: RateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._account = settings.account
        self._http = http or new_client(
            settings.api_base_url, headers={"accept": "application/json"}
        )
        self.limiter = limiter or RateLimiter({"*": DEFAULT_RATE})
        self.tokens = TokenCache(self._refresh_access_token)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ operations

    async def get_orders(self, params: dict[str, str]) -> Any:
        response = await self._call("getOrders", "GET", ORDERS_PATH, params=params)
        return _json(check(response, "getOrders", ebay_message), "getOrders")

    async def get_order(self, order_id: str) -> Any:
        response = await self._call("getOrder", "GET", _order_path(order_id))
        return _json(check(response, "getOrder", ebay_message), "getOrder")

    async def get_shipping_fulfillments(self, order_id: str) -> Any:
        path = f"{_order_path(order_id)}/shipping_fulfillment"
        response = await self._call("getShippingFulfillments", "GET", path)
        return _json(
            check(response, "getShippingFulfillments", ebay_message), "getShippingFulfillments"
        )

    async def create_shipping_fulfillment(self, order_id: str, body: dict[str, Any]) -> str | None:
        """Create one package's fulfillment; return the ``Location`` of the new one.

        Sent as free of side effects for hub.http: the plugin looks for the tracking number
        before it creates, so after a lost answer a retry finds what this call made.
        """
        path = f"{_order_path(order_id)}/shipping_fulfillment"
        response = await self._call("createShippingFulfillment", "POST", path, json=body)
        if response.status_code == 400 and ALREADY_FULFILLED in error_ids(response):
            raise FulfillmentExists(
                f"createShippingFulfillment: HTTP 400: {ebay_message(response)}"
            )
        check(response, "createShippingFulfillment", ebay_message)
        location: str | None = response.headers.get("location")
        return location

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
        """Send under the pace; on a refused token refresh it and send once more. Spent call
        limits raise here; any other answer goes back to the caller to check."""
        response = await self._send(operation, method, path, params=params, json=json)
        if response.status_code == 401:
            log.info("ebay %s: access token refused, refreshing", operation)
            self.tokens.invalidate()
            response = await self._send(operation, method, path, params=params, json=json)
        if response.status_code == 429 or (
            not response.is_success and error_ids(response) & CALL_LIMIT_ERRORS
        ):
            self.limiter.drain(self._account, operation)
            raise TransientError(
                f"{operation}: HTTP {response.status_code}: {ebay_message(response)}",
                retry_after=retry_after_seconds(response),
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
            method, path, params=params, json=json, headers={"authorization": f"Bearer {token}"}
        )
        return await send(self._http, request, action=f"ebay {operation}")

    async def _refresh_access_token(self) -> tuple[str, float]:
        settings = self._settings
        pair = f"{settings.client_id}:{settings.client_secret.get_secret_value()}"
        request = self._http.build_request(
            "POST",
            settings.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": settings.refresh_token.get_secret_value(),
                "scope": " ".join(settings.scopes),
            },
            headers={"authorization": "Basic " + base64.b64encode(pair.encode()).decode()},
        )
        response = await send(self._http, request, action="ebay token")
        body = _json(check(response, "ebay token", ebay_message), "ebay token")
        token = body.get("access_token") if isinstance(body, dict) else None
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        if (
            not isinstance(token, str)
            or not token
            or isinstance(lifetime, bool)
            or not isinstance(lifetime, int | float)
            or lifetime <= 0
        ):
            raise PermanentError("ebay token: the answer lacks access_token or expires_in")
        return token, float(lifetime)


def _order_path(order_id: str) -> str:
    return f"{ORDERS_PATH}/{quote(order_id, safe='')}"


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: the answer is not JSON") from None
