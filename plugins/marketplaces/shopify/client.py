"""Thin client of the Shopify Admin GraphQL API: auth, rate limits, error mapping. Nothing else.

References:
- Endpoint and auth: ``POST https://{shop}/admin/api/{version}/graphql.json`` with header
  ``X-Shopify-Access-Token`` (shopify.dev/docs/api/admin-graphql, "Authentication").
- Client credentials grant: ``POST https://{shop}/admin/oauth/access_token`` with form fields
  ``grant_type=client_credentials, client_id, client_secret``; answer ``{access_token, scope,
  expires_in}``, tokens live 24 hours
  (shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant).
- Rate limits: every answer's ``extensions.cost`` has ``requestedQueryCost``, ``actualQueryCost``
  and ``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``; an empty bucket
  answers HTTP 200 with ``errors: [{message: "Throttled", extensions: {code: "THROTTLED"}}]``
  (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); HTTP 429/5xx as for any API
  (shopify.dev/docs/api/usage/response-codes). REST-style error bodies are
  ``{"errors": "..."}`` or ``{"errors": [{"message": ...}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from hub.errors import PermanentError, TransientError
from hub.http import RateLimiter, TokenCache, check, default_message, new_client, send
from plugins.marketplaces.shopify.settings import ShopifySettings

DEFAULT_RATE = (2.0, 10.0)
"""Calls per second and burst before Shopify's first cost report; then its figures rule."""
CLIENT_CREDENTIALS_LIFETIME = 86399.0
"""Seconds, when the token answer leaves out ``expires_in`` (24 hours, as documented)."""
_TRANSIENT_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})


def shopify_message(response: httpx.Response) -> str:
    """Shopify's own words from its error bodies (``errors`` as a string, list or object)."""
    try:
        body = response.json()
    except ValueError:
        return default_message(response)
    if isinstance(body, dict):
        errors = body.get("errors") or body.get("error_description") or body.get("error")
        if isinstance(errors, str):
            return errors[:300]
        if isinstance(errors, list) and errors:
            return _messages(errors)[:300]
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{k}: {v}" for k, v in errors.items())[:300]
    return default_message(response)


def throttle_wait(cost: object) -> float | None:
    """Seconds until the bucket holds this query's cost again: shortfall / restore rate."""
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    if not isinstance(status, dict):
        return None
    requested = _number(cost.get("requestedQueryCost"))
    available = _number(status.get("currentlyAvailable"))
    restore = _number(status.get("restoreRate"))
    if requested is None or available is None or not restore:
        return None
    return max(requested - available, 1.0) / restore


class ShopifyClient:
    def __init__(self, settings: ShopifySettings) -> None:
        self._settings = settings
        self._account = settings.account_name
        self._http = new_client(settings.api_base_url)
        self._path = f"/admin/api/{settings.api_version}/graphql.json"
        self._tokens = None if settings.access_token else TokenCache(self._client_credentials)
        self.limiter = RateLimiter({"*": DEFAULT_RATE})
        """One bucket per operation, paced by Shopify's cost reports (public for tests)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def execute(
        self, operation: str, document: str, variables: Mapping[str, object]
    ) -> dict[str, Any]:
        """Run one GraphQL operation and return its ``data``.

        Every call, mutations included, may be repeated by the caller: the plugin makes its one
        mutation idempotent by looking before it writes, so a lost answer is transient here.
        """
        response = await self._post(operation, document, variables)
        if response.status_code == 401 and self._tokens is not None:
            # A client-credentials token may be revoked before its 24 hours: fetch one, once.
            self._tokens.invalidate()
            response = await self._post(operation, document, variables)
        if response.status_code == 429:
            self.limiter.drain(self._account, operation)
        check(response, f"shopify {operation}", shopify_message)
        return self._data(operation, response)

    async def _post(
        self, operation: str, document: str, variables: Mapping[str, object]
    ) -> httpx.Response:
        await self.limiter.acquire(self._account, operation)
        request = self._http.build_request(
            "POST",
            self._path,
            json={"query": document, "variables": dict(variables)},
            headers={"X-Shopify-Access-Token": await self._token(), "Accept": "application/json"},
        )
        return await send(self._http, request, action=f"shopify {operation}")

    async def _token(self) -> str:
        if self._tokens is not None:
            return await self._tokens.get()
        assert self._settings.access_token is not None  # settings demand one or the other
        return self._settings.access_token.get_secret_value()

    async def _client_credentials(self) -> tuple[str, float]:
        request = self._http.build_request(
            "POST",
            "/admin/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._settings.client_id or "",
                "client_secret": self._settings.client_secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
        )
        response = await send(self._http, request, action="shopify token")
        check(response, "shopify token", shopify_message)
        try:
            body = response.json()
        except ValueError:
            raise TransientError("shopify token: answer is not JSON") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PermanentError("shopify token: answer has no access_token")
        lifetime = _number(body.get("expires_in")) or CLIENT_CREDENTIALS_LIFETIME
        return token, lifetime

    def _data(self, operation: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise TransientError(f"shopify {operation}: answer is not JSON") from None
        if not isinstance(body, dict):
            raise TransientError(f"shopify {operation}: answer is not a JSON object")
        extensions = body.get("extensions")
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        self._follow(operation, cost)
        errors = body.get("errors")
        if errors:
            raise self._graphql_error(operation, errors, cost)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentError(f"shopify {operation}: answer has no data")
        return data

    def _follow(self, operation: str, cost: object) -> None:
        """Pace the next call of this operation by Shopify's cost report: the restore rate
        buys ``restoreRate / cost`` calls a second; a bucket too low for another call of this
        cost empties ours, so the next call waits for the refill instead of being throttled."""
        if not isinstance(cost, dict) or not isinstance(cost.get("throttleStatus"), dict):
            return
        status = cost["throttleStatus"]
        restore = _number(status.get("restoreRate"))
        available = _number(status.get("currentlyAvailable"))
        requested = _number(cost.get("requestedQueryCost"))
        spent = _number(cost.get("actualQueryCost")) or requested
        if restore and spent:
            self.limiter.observe(self._account, operation, rate_per_second=restore / max(spent, 1))
        if available is not None and requested is not None and available < requested:
            self.limiter.drain(self._account, operation)

    def _graphql_error(self, operation: str, errors: object, cost: object) -> Exception:
        items = errors if isinstance(errors, list) else [errors]
        codes = {
            e["extensions"].get("code")
            for e in items
            if isinstance(e, dict) and isinstance(e.get("extensions"), dict)
        }
        message = f"shopify {operation}: {_messages(items)[:300]}"
        if "THROTTLED" in codes:
            self.limiter.drain(self._account, operation)
            return TransientError(message, retry_after=throttle_wait(cost))
        if codes & _TRANSIENT_CODES:
            return TransientError(message)
        return PermanentError(message)


def _messages(errors: list[Any]) -> str:
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
