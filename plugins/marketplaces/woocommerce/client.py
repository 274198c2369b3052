"""Thin client of the WooCommerce REST API: auth, pacing, error mapping. Nothing else.

References (WooCommerce REST API docs, wp-api-v3, woocommerce.github.io/woocommerce-rest-api-docs):
- "Authentication over HTTPS": consumer key and secret as HTTP Basic auth.
- "Errors": ``{"code": "...", "message": "...", "data": {"status": N}}`` with 400 (invalid
  request), 401 (authentication or permission), 404 (no such resource or route), 500.
- "Pagination": ``X-WP-Total`` / ``X-WP-TotalPages`` headers on collections.
WooCommerce has no rate limit of its own on this API; hosts, CDNs and security plugins answer 429,
usually with ``Retry-After``: transient, and the bucket empties so the next call waits.

Every call here may be repeated by its caller: the one write that is not idempotent by itself
(creating a tracking item) is made so by the plugin looking first, so a request that may have
reached the shop is reported as transient, not ambiguous.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from hub.errors import TransientError
from hub.http import RateLimiter, check, default_message, new_client, send
from plugins.marketplaces.woocommerce.settings import WooCommerceSettings

API_ROOT = "/wp-json"
ORDERS_ROOT = "/wc/v3"
USER_AGENT = "fulfilment-hub/0.1 (WooCommerce REST v3)"


def woo_message(response: httpx.Response) -> str:
    """WordPress/WooCommerce's own words: ``code: message``."""
    try:
        body = response.json()
    except ValueError:
        return default_message(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("code")
        prefix = f"{code}: " if isinstance(code, str) and code else ""
        return f"{prefix}{body['message']}"[:300]
    return default_message(response)


@dataclass(frozen=True)
class Answer:
    body: Any
    headers: httpx.Headers


class WooClient:
    def __init__(self, settings: WooCommerceSettings) -> None:
        self._account = settings.account_name
        self._http = new_client(
            settings.store_url + API_ROOT,
            auth=httpx.BasicAuth(
                settings.consumer_key.get_secret_value(),
                settings.consumer_secret.get_secret_value(),
            ),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self.limiter = RateLimiter({"*": (settings.requests_per_second, settings.burst)})
        """One bucket per operation (public for tests)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(
        self, operation: str, path: str, params: Mapping[str, str] | None = None
    ) -> Answer:
        return _answer(await self._send(operation, "GET", path, params=params), operation)

    async def find(self, operation: str, path: str) -> Answer | None:
        """GET one resource; None if WooCommerce says it does not exist (a ``*_invalid_id`` 404;
        a 404 for a missing route, e.g. wrong permalinks, stays an error)."""
        response = await self._send(operation, "GET", path)
        if response.status_code == 404 and _error_code(response).endswith("_invalid_id"):
            return None
        return _answer(response, operation)

    async def post(self, operation: str, path: str, body: Mapping[str, Any]) -> Answer:
        return _answer(await self._send(operation, "POST", path, body=body), operation)

    async def put(self, operation: str, path: str, body: Mapping[str, Any]) -> Answer:
        return _answer(await self._send(operation, "PUT", path, body=body), operation)

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        await self.limiter.acquire(self._account, operation)
        request = self._http.build_request(method, path, params=params, json=body)
        response = await send(self._http, request, action=f"woocommerce {operation}")
        if response.status_code == 429:
            self.limiter.drain(self._account, operation)
        return response


def _answer(response: httpx.Response, operation: str) -> Answer:
    action = f"woocommerce {operation}"
    check(response, action, woo_message)
    try:
        # Amounts stay exact: JSON numbers (line ``price``) become Decimal, never float.
        body = json.loads(response.content, parse_float=Decimal)
    except (ValueError, RecursionError):
        # A caching or security plugin answering HTML in place of the API: try again later.
        raise TransientError(f"{action}: answer is not JSON") from None
    return Answer(body=body, headers=response.headers)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""
