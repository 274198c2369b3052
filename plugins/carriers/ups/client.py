"""Thin UPS HTTP client over :mod:`hub.http`: OAuth token, headers, error mapping. Nothing else.

- Token: OAuthClientCredentials.yaml ``POST /security/v1/oauth/token`` with HTTP Basic
  (client id / secret), form ``grant_type=client_credentials`` and ``x-merchant-id`` (the
  shipper number); the answer's ``expires_in`` is a string of seconds. Cached by
  :class:`hub.http.TokenCache`; a 401 from an API call drops it and the call is sent once more.
- Every API call carries ``transId`` (at most 32 characters) and ``transactionSrc``.
- Errors: ``{"response": {"errors": [{"code", "message"}]}}`` on 4xx/5xx; 429 (UPS code 10429)
  and 5xx are transient, other 4xx permanent (:func:`hub.http.check`).
UPS has no idempotency key: ``transId`` only correlates a request with UPS's logs.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError
from hub.http import TokenCache, check, default_message, new_client, send
from plugins.carriers.ups.settings import UpsSettings

log = logging.getLogger(__name__)

OAUTH_PATH = "/security/v1/oauth/token"
DEFAULT_TOKEN_SECONDS = 3600.0
"""Used only if UPS's token answer lacks a usable ``expires_in``; a 401 refreshes anyway."""
_TRANS_ID = re.compile(r"[A-Za-z0-9._:-]{1,32}")


def trans_id_for(key: str) -> str:
    """The idempotency key as ``transId`` if it fits UPS's 32 characters, else its digest:
    stable across retries either way, so UPS's logs can be searched for it."""
    if _TRANS_ID.fullmatch(key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def ups_message(response: httpx.Response) -> str:
    """``code: message`` for each UPS error, falling back to the common shapes."""
    try:
        body = response.json()
    except ValueError:
        return default_message(response)
    errors = body.get("response", {}).get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        parts = [
            f"{e.get('code', '?')}: {e.get('message', '')}".strip()
            for e in errors
            if isinstance(e, dict)
        ]
        if parts:
            return "; ".join(parts)
    return default_message(response)


@dataclass(frozen=True)
class VoidAnswer:
    accepted: bool
    """False: UPS refused the void (a 4xx with its reason in ``message``)."""
    body: Any
    message: str = ""


class UpsClient:
    def __init__(self, settings: UpsSettings) -> None:
        self._settings = settings
        self._http = new_client(settings.base_url)
        self._tokens = TokenCache(self._fetch_token)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ operations

    async def rate(self, body: dict[str, Any], *, option: str, shipment_id: str) -> Any:
        path = f"/api/rating/{self._settings.rating_version}/{option}"
        action = f"UPS rating for {shipment_id}"
        response = await self._call("POST", path, action=action, json=body)
        return _json(check(response, action, ups_message), action)

    async def ship(self, body: dict[str, Any], *, trans_id: str, shipment_id: str) -> Any:
        """Buy the label. Any answer that does not prove UPS rejected the request is
        ambiguous: a 503 or 429 was turned away at the door, other 5xx may have shipped."""
        path = f"/api/shipments/{self._settings.shipping_version}/ship"
        action = f"UPS label for {shipment_id} (transId {trans_id})"
        response = await self._call(
            "POST", path, action=action, json=body, trans_id=trans_id, side_effect=True
        )
        status = response.status_code
        if status >= 500 and status != 503:
            raise AmbiguousOutcomeError(
                f"{action}: HTTP {status} after the request reached UPS: {ups_message(response)}"
            )
        checked = check(response, action, ups_message)
        try:
            return checked.json()
        except ValueError:
            raise AmbiguousOutcomeError(f"{action}: UPS answered {status} without JSON") from None

    async def void(self, shipment_id: str, query: dict[str, str]) -> VoidAnswer:
        version = self._settings.shipping_version
        path = f"/api/shipments/{version}/void/cancel/{quote(shipment_id, safe='')}"
        action = f"UPS void of {shipment_id}"
        response = await self._call("DELETE", path, action=action, params=query)
        if _refused(response):
            return VoidAnswer(accepted=False, body=None, message=ups_message(response))
        return VoidAnswer(accepted=True, body=_json(check(response, action, ups_message), action))

    async def track(self, tracking_number: str) -> Any | None:
        """The tracking answer, or None while UPS does not know the number (404)."""
        version = self._settings.tracking_version
        path = f"/api/track/{version}/details/{quote(tracking_number, safe='')}"
        action = f"UPS tracking of {tracking_number}"
        params = {"locale": "en_US", "returnSignature": "false", "returnPOD": "false"}
        response = await self._call("GET", path, action=action, params=params)
        if response.status_code == 404:
            return None
        return _json(check(response, action, ups_message), action)

    async def subscribe_track_alert(
        self, tracking_numbers: list[str], url: str, credential: str
    ) -> list[str]:
        """Ask UPS to push this parcel's events for 14 days (UPSTrackAlert.yaml,
        ``POST /subscription/standard/package``); returns the numbers UPS accepted."""
        version = self._settings.tracking_version
        body = {
            "locale": "en_US",
            "countryCode": "US",
            "trackingNumberList": tracking_numbers,
            "destination": {"url": url, "credentialType": "Bearer", "credential": credential},
        }
        action = f"UPS Track Alert subscription for {', '.join(tracking_numbers)}"
        path = f"/api/track/{version}/subscription/standard/package"
        response = await self._call("POST", path, action=action, json=body)
        answer = _json(check(response, action, ups_message), action)
        valid = answer.get("validTrackingNumbers", []) if isinstance(answer, dict) else []
        return [n for n in valid if isinstance(n, str)]

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        trans_id: str | None = None,
        side_effect: bool = False,
    ) -> httpx.Response:
        headers = {
            "transId": trans_id or uuid.uuid4().hex,
            "transactionSrc": self._settings.transaction_source,
        }
        for attempt in (1, 2):
            token = await self._tokens.get()
            request = self._http.build_request(
                method,
                path,
                json=json,
                params=params,
                headers=headers | {"Authorization": f"Bearer {token}"},
            )
            response = await send(self._http, request, action=action, side_effect=side_effect)
            if response.status_code != 401 or attempt == 2:
                return response
            # A rejected token: the request was not processed, so sending it again is safe.
            log.info("%s: token rejected (HTTP 401); fetching a new one", action)
            self._tokens.invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch_token(self) -> tuple[str, float]:
        settings = self._settings
        pair = f"{settings.client_id}:{settings.client_secret.get_secret_value()}"
        request = self._http.build_request(
            "POST",
            OAUTH_PATH,
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "x-merchant-id": settings.account_number,
            },
        )
        action = "UPS OAuth token"
        response = check(await send(self._http, request, action=action), action, ups_message)
        body = _json(response, action)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PermanentError(f"{action}: the answer has no access_token")
        try:
            lifetime = float(body.get("expires_in", DEFAULT_TOKEN_SECONDS))
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_SECONDS
        return token, lifetime if lifetime > 0 else DEFAULT_TOKEN_SECONDS


def _refused(response: httpx.Response) -> bool:
    """A 4xx that is UPS's answer to the void itself, not an auth, rate or server problem."""
    return 400 <= response.status_code < 500 and response.status_code not in {401, 403, 408, 429}


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: UPS answered without JSON") from None
