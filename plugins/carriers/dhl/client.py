"""Thin DHL HTTP client over :mod:`hub.http`: authentication, pacing, error mapping.

- Shipping (Parcel DE Shipping API v2, OpenAPI 2.1.13, ``securitySchemes``): either
  ``dhl-api-key`` header plus HTTP Basic with the GKP user (``auth = "basic"``), or an OAuth
  bearer token (``auth = "oauth"``) from the Authentication API (Post & Parcel Germany, OpenAPI
  2.0.5, ``POST /parcel/de/account/auth/ropc/v1/token``, form-encoded ``grant_type=password``,
  ``client_id``, ``client_secret``, ``username``, ``password``; answer ``TokenResponse``
  {``access_token``, ``token_type``, ``expires_in``}), cached by :class:`hub.http.TokenCache`.
  A 401 drops the token and sends the call once more: a rejected token means DHL processed
  nothing, so resending even a label purchase is safe. With Basic there is nothing to refresh.
- ``POST /orders`` (with ``validate=true`` for the dry run), ``DELETE /orders?profile=&
  shipment=``; ``Accept-Language`` picks the language of DHL's messages. A dry run or deletion
  answering 400 with per-shipment items is an answer, not a failure (its items say why).
- Buying labels is not idempotent (no idempotency key in the API): it goes through
  ``send(side_effect=True)``, and a 5xx other than 503 after DHL received it is ambiguous.
- Tracking: Shipment Tracking - Unified, ``GET /track/shipments`` with ``DHL-API-Key``; 404
  means DHL does not know the number yet (new shipments appear after 10 to 30 minutes, DHL
  developer support).
- Push (Shipment Tracking - Unified - Push v1.2, see :mod:`.push`): ``POST /subscription``
  (type ``Shipment``, at most 10 ``shipmentIDs``) and the activation ``POST /subscription/{id}``
  with ``DHL-API-Hook-Secret``, both with ``DHL-API-Key`` and on the tracking bucket. URLs are
  built from ``push_api_url`` and a checked id only; token and secret never reach a message.
- 429 and 5xx are transient with ``Retry-After`` honoured (:func:`hub.http.check`); each API
  has its own token bucket, emptied by a 429.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError
from hub.http import RateLimiter, TokenCache, check, default_message, new_client, send
from plugins.carriers.dhl.push import checked_subscription_id, subscription_id_of
from plugins.carriers.dhl.responses import error_message
from plugins.carriers.dhl.schemas import TokenAnswer, validated
from plugins.carriers.dhl.settings import DhlSettings

log = logging.getLogger(__name__)

ORDERS_PATH = "/orders"
DEFAULT_TOKEN_SECONDS = 1799.0
"""The Authentication API's example lifetime; used only if ``expires_in`` is missing."""
SHIPPING, TRACKING = "shipping", "tracking"
_ACCOUNT = "default"
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9]{6,40}$")
_DOCUMENT_HOSTS = ("dhl.com", "dhl.de")
Params = list[tuple[str, str]]
PUSH_BATCH = 10
"""Shipment numbers per subscription request (the Push API's limit)."""
PUSH_EVENTS = ("Pre-Transit", "Transit", "Delivered", "Failure", "Unknown")
PUSH_SERVICE = "parcel-de"
"""This adapter books Parcel DE shipments only."""
_HOOK_SECRET = re.compile(r"^[\x21-\x7e]{1,512}$")


def dhl_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return default_message(response)
    return error_message(payload) or default_message(response)


def checked_tracking_number(value: str) -> str:
    if not _TRACKING_NUMBER.fullmatch(value):
        raise PermanentError(f"tracking_number: {value[:40]!r} is not a DHL shipment number")
    return value


def _items_answer(response: httpx.Response) -> Any | None:
    """A 400 that still carries per-shipment items (dry runs, deletions)."""
    if response.status_code != 400:
        return None
    try:
        payload = response.json()
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("items"), list) and payload["items"]:
        return payload
    return None


class DhlClient:
    def __init__(self, settings: DhlSettings) -> None:
        self._settings = settings
        self._http = new_client(settings.base_url)
        self._tokens = TokenCache(self._fetch_token)
        shipping = settings.requests_per_second
        tracking = settings.tracking_requests_per_second
        self._pace = RateLimiter(
            {SHIPPING: (shipping, max(1.0, shipping)), TRACKING: (tracking, max(1.0, tracking))}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ shipping

    async def validate(self, body: dict[str, Any], *, shipment_id: str) -> Any:
        action = f"DHL dry run for {shipment_id}"
        response = await self._orders("POST", action, [("validate", "true")], body)
        return _items_answer(response) or _json(check(response, action, dhl_message), action)

    async def create(
        self, body: dict[str, Any], params: dict[str, str], *, shipment_id: str, reference: str
    ) -> Any:
        """Book the shipments; the answer, whatever each shipment's fate. Anything that does not
        prove DHL turned the whole request away is ambiguous: labels may exist."""
        action = f"DHL label for {shipment_id} (refNo {reference})"
        response = await self._orders("POST", action, list(params.items()), body, side_effect=True)
        status = response.status_code
        if status >= 500 and status != 503:
            raise AmbiguousOutcomeError(
                f"{action}: HTTP {status} after the request reached DHL: {dhl_message(response)}"
            )
        answer = _items_answer(response)
        if answer is not None:
            return answer
        check(response, action, dhl_message)
        try:
            return response.json()
        except ValueError:
            raise AmbiguousOutcomeError(
                f"{action}: DHL accepted but answered without JSON"
            ) from None

    async def delete(self, numbers: list[str]) -> Any:
        action = f"DHL delete of {', '.join(numbers)}"
        params = [("profile", self._settings.profile)] + [("shipment", n) for n in numbers]
        response = await self._orders("DELETE", action, params, None)
        return _items_answer(response) or _json(check(response, action, dhl_message), action)

    async def document(self, url: str, *, what: str) -> bytes:
        """A label offered only as a download link (``GET /labels?token=``: public, no auth)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not any(
            host == h or host.endswith("." + h) for h in _DOCUMENT_HOSTS
        ):
            raise PermanentError(f"{what}: DHL's label link is not an https DHL address")
        await self._pace.acquire(_ACCOUNT, SHIPPING)
        request = self._http.build_request("GET", url)
        response = await send(self._http, request, action=what)
        return check(response, what, dhl_message).content

    # ------------------------------------------------------------------ tracking

    async def track(self, tracking_number: str) -> Any | None:
        number = checked_tracking_number(tracking_number)
        settings = self._settings
        action = f"DHL tracking of {number}"
        params = {"trackingNumber": number, "language": settings.tracking_language}
        if settings.tracking_service:
            params["service"] = settings.tracking_service
        request = self._http.build_request(
            "GET", settings.tracking_api_url, params=params, headers=self._tracking_headers()
        )
        response = await self._send(request, action, TRACKING)
        if response.status_code == 404:
            return None
        return _json(check(response, action, dhl_message), action)

    async def subscribe_push(self, numbers: list[str]) -> list[str]:
        """Ask DHL to push these shipments' events to ``push_url``; the subscription ids DHL
        answered with (an answer without one is logged: DHL still sends its validate message)."""
        settings = self._settings
        if settings.push_url is None or settings.push_token is None:
            raise PermanentError("DHL push subscription: push_url and push_token are not set")
        hook = {
            "uri": settings.push_url,
            "authentication": {
                "type": "ApiKeyAuthentication",
                "header": settings.push_header,
                "token": settings.push_token.get_secret_value(),
            },
        }
        checked = [checked_tracking_number(n) for n in dict.fromkeys(numbers)]
        ids = []
        for start in range(0, len(checked), PUSH_BATCH):
            chunk = checked[start : start + PUSH_BATCH]
            body = {
                "hook": hook,
                "format": "Default",
                "type": "Shipment",
                "service": PUSH_SERVICE,
                "events": list(PUSH_EVENTS),
                "shipmentIDs": chunk,
            }
            action = f"DHL push subscription for {', '.join(chunk)}"
            request = self._http.build_request(
                "POST",
                f"{settings.push_api_url.rstrip('/')}/subscription",
                json=body,
                headers=self._tracking_headers(),
            )
            response = check(await self._send(request, action, TRACKING), action, dhl_message)
            try:
                found = subscription_id_of(response.json())
            except ValueError:
                found = None
            if found is None:
                log.warning("%s: DHL answered without a subscription id", action)
            else:
                ids.append(found)
        return ids

    async def activate_push(self, subscription_id: str, secret: str) -> None:
        """Answer DHL's validate message: the subscription starts pushing once activated."""
        checked = checked_subscription_id(subscription_id)
        action = f"DHL push activation of subscription {checked}"
        if not _HOOK_SECRET.fullmatch(secret):
            raise PermanentError(f"{action}: the hook secret is not a header value")
        url = f"{self._settings.push_api_url.rstrip('/')}/subscription/{checked}"
        headers = self._tracking_headers() | {"DHL-API-Hook-Secret": secret}
        request = self._http.build_request("POST", url, headers=headers)
        check(await self._send(request, action, TRACKING), action, dhl_message)

    def _tracking_headers(self) -> dict[str, str]:
        key = self._settings.tracking_api_key or self._settings.api_key
        return {"DHL-API-Key": key.get_secret_value(), "Accept": "application/json"}

    # ------------------------------------------------------------------ plumbing

    async def _orders(
        self,
        method: str,
        action: str,
        params: Params,
        body: dict[str, Any] | None,
        *,
        side_effect: bool = False,
    ) -> httpx.Response:
        oauth = self._settings.auth == "oauth"
        for attempt in (1, 2):
            headers = {"Accept": "application/json", "Accept-Language": self._settings.language}
            headers.update(await self._auth_headers())
            request = self._http.build_request(
                method, ORDERS_PATH, params=tuple(params), json=body, headers=headers
            )
            response = await self._send(request, action, SHIPPING, side_effect=side_effect)
            if response.status_code != 401 or not oauth or attempt == 2:
                return response
            log.info("%s: token rejected (HTTP 401); fetching a new one", action)
            self._tokens.invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _auth_headers(self) -> dict[str, str]:
        settings = self._settings
        if settings.auth == "oauth":
            return {"Authorization": f"Bearer {await self._tokens.get()}"}
        pair = f"{settings.username}:{settings.password.get_secret_value()}".encode()
        return {
            "dhl-api-key": settings.api_key.get_secret_value(),
            "Authorization": "Basic " + base64.b64encode(pair).decode(),
        }

    async def _send(
        self, request: httpx.Request, action: str, api: str, *, side_effect: bool = False
    ) -> httpx.Response:
        await self._pace.acquire(_ACCOUNT, api)
        response = await send(self._http, request, action=action, side_effect=side_effect)
        if response.status_code == 429:
            self._pace.drain(_ACCOUNT, api)
        return response

    async def _fetch_token(self) -> tuple[str, float]:
        settings = self._settings
        secret = settings.api_secret
        if secret is None:  # settings refuse oauth without a secret; kept for the type checker
            raise PermanentError("DHL OAuth: api_secret is not set")
        request = self._http.build_request(
            "POST",
            settings.auth_url,
            data={
                "grant_type": "password",
                "username": settings.username,
                "password": settings.password.get_secret_value(),
                "client_id": settings.api_key.get_secret_value(),
                "client_secret": secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
        )
        action = "DHL OAuth token"
        response = check(await self._send(request, action, SHIPPING), action, dhl_message)
        answer = validated(TokenAnswer, _json(response, action), action)
        return answer.access_token, answer.expires_in or DEFAULT_TOKEN_SECONDS


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: DHL answered without JSON") from None
