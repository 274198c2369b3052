"""Thin USPS HTTP client over :mod:`hub.http`: two tokens, the hourly quota, error mapping.

- OAuth: ``POST /oauth2/v3/token`` with JSON ``{client_id, client_secret, grant_type:
  "client_credentials"}``; the answer's ``expires_in`` is a string of seconds (USPS/api-examples
  README, "OAuth Token"). Cached by :class:`hub.http.TokenCache`.
- Payment authorization: Payments 3.1.20 ``POST /payments/v3/payment-authorization``; the
  token is "valid for eight hours after issuance" and "the Payments API should not be called
  for every label", so it is cached too and sent as ``X-Payment-Authorization-Token`` on
  label purchase and cancel (Labels 3.9.13 parameter ``X-Payment-Authorization-Token``).
- A 401 from any call drops both tokens and sends the call once more: a rejected token means
  the request was not processed, so resending a label purchase is safe.
- Errors: Labels/Prices/Tracking ``ErrorMessage`` ``{"apiVersion", "error": {"code",
  "message", "errors": [{"code", "title", "detail", "source": {"parameter"}}]}}``; 429 (with
  ``Retry-After``) and 5xx are transient, other 4xx permanent (:func:`hub.http.check`).
- Subscriptions - Tracking: ``POST /subscriptions-tracking/v3/subscriptions``; a 400 that
  names a live ``subscriptionId`` is a refused duplicate, not a failure (:mod:`.subscriptions`).
- Quota: USPS counts an app's calls per hour across all APIs (429 "exceeded quota limit");
  a :class:`hub.http.RateLimiter` bucket spends the configured hourly quota evenly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError
from hub.http import RateLimiter, TokenCache, check, default_message, new_client, send
from plugins.carriers.usps.mapping import error_message, payment_authorization_body, validated
from plugins.carriers.usps.schemas import PaymentAuthorization, TokenAnswer
from plugins.carriers.usps.settings import UspsSettings
from plugins.carriers.usps.subscriptions import SUBSCRIPTIONS_PATH, created_id, duplicate_of

log = logging.getLogger(__name__)

OAUTH_PATH = "/oauth2/v3/token"
PAYMENT_PATH = "/payments/v3/payment-authorization"
RATES_PATH = "/prices/v3/total-rates/search"
LABEL_PATH = "/labels/v3/label"
TRACKING_PATH = "/tracking/v3/tracking/{}"

DEFAULT_TOKEN_SECONDS = 3600.0
"""Used only if the token answer lacks ``expires_in``; a 401 refreshes anyway."""
PAYMENT_TOKEN_SECONDS = 8 * 3600.0
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9]{1,40}$")
_ACCOUNT = "default"
_QUOTA = "*"


def usps_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return default_message(response)
    return error_message(payload) or default_message(response)


@dataclass(frozen=True)
class CancelOutcome:
    """USPS's answer to a cancel: its ``CancelResponse``, or the reason it refused (a 400)."""

    payload: Any = None
    refused: str | None = None


def checked_tracking_number(value: str) -> str:
    """Tracking numbers go into URL paths: letters and digits only."""
    if not _TRACKING_NUMBER.fullmatch(value):
        raise PermanentError(f"tracking_number: {value[:40]!r} is not a USPS tracking number")
    return value


class UspsClient:
    def __init__(self, settings: UspsSettings) -> None:
        self._settings = settings
        self._http = new_client(settings.base_url)
        self._tokens = TokenCache(self._fetch_token)
        self._payment_tokens = TokenCache(self._fetch_payment_token)
        quota = float(settings.requests_per_hour)
        self._quota = RateLimiter({_QUOTA: (quota / 3600.0, quota)})

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ operations

    async def total_rates(self, body: dict[str, Any], *, shipment_id: str) -> Any:
        action = f"USPS rates for {shipment_id}"
        response = await self._call("POST", RATES_PATH, action=action, json=body)
        return _json(check(response, action, usps_message), action)

    async def create_label(
        self, body: dict[str, Any], *, idempotency_key: str, shipment_id: str
    ) -> tuple[str, bytes]:
        """Buy one label; the answer's Content-Type and body. Any answer that does not prove
        USPS turned the request away (4xx, 429, 503) is ambiguous: the label may exist."""
        action = f"USPS label for {shipment_id} (X-Idempotency-Key {idempotency_key})"
        response = await self._call(
            "POST",
            LABEL_PATH,
            action=action,
            json=body,
            headers={"X-Idempotency-Key": idempotency_key},
            payment=True,
            side_effect=True,
        )
        status = response.status_code
        if status >= 500 and status != 503:
            raise AmbiguousOutcomeError(
                f"{action}: HTTP {status} after the request reached USPS: {usps_message(response)}"
            )
        check(response, action, usps_message)
        return response.headers.get("content-type", ""), response.content

    async def cancel_label(self, tracking_number: str) -> CancelOutcome:
        number = checked_tracking_number(tracking_number)
        action = f"USPS cancel of {number}"
        response = await self._call("DELETE", f"{LABEL_PATH}/{number}", action=action, payment=True)
        if response.status_code == 400:
            return CancelOutcome(refused=usps_message(response))
        return CancelOutcome(payload=_json(check(response, action, usps_message), action))

    async def tracking(self, tracking_number: str) -> Any | None:
        """The tracking answer, or None while USPS does not know the number (404)."""
        number = checked_tracking_number(tracking_number)
        action = f"USPS tracking of {number}"
        response = await self._call(
            "GET", TRACKING_PATH.format(number), action=action, params={"expand": "DETAIL"}
        )
        if response.status_code == 404:
            return None
        return _json(check(response, action, usps_message), action)

    async def subscribe_tracking(self, body: dict[str, Any]) -> tuple[str, bool]:
        """Create the tracking subscription: its id, and whether USPS already had it live."""
        action = "USPS tracking subscription"
        response = await self._call("POST", SUBSCRIPTIONS_PATH, action=action, json=body)
        if response.status_code == 400:
            live = duplicate_of(response.text)
            if live is not None:
                return live, True
        subscription_id = created_id(_json(check(response, action, usps_message), action))
        if subscription_id is None:
            raise PermanentError(f"{action}: USPS answered without a subscriptionId")
        return subscription_id, False

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        payment: bool = False,
        side_effect: bool = False,
    ) -> httpx.Response:
        for attempt in (1, 2):
            sent = dict(headers or {})
            sent["Authorization"] = f"Bearer {await self._tokens.get()}"
            if payment:
                sent["X-Payment-Authorization-Token"] = await self._payment_tokens.get()
            request = self._http.build_request(method, path, json=json, params=params, headers=sent)
            response = await self._send(request, action=action, side_effect=side_effect)
            if response.status_code != 401 or attempt == 2:
                return response
            # Either token may have been revoked or expired early; USPS does not say which.
            log.info("%s: token rejected (HTTP 401); fetching new tokens", action)
            self._tokens.invalidate()
            self._payment_tokens.invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, request: httpx.Request, *, action: str, side_effect: bool = False
    ) -> httpx.Response:
        await self._quota.acquire(_ACCOUNT, _QUOTA)
        response = await send(self._http, request, action=action, side_effect=side_effect)
        if response.status_code == 429:
            self._quota.drain(_ACCOUNT, _QUOTA)
        return response

    async def _fetch_token(self) -> tuple[str, float]:
        settings = self._settings
        request = self._http.build_request(
            "POST",
            OAUTH_PATH,
            json={
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "grant_type": "client_credentials",
            },
        )
        action = "USPS OAuth token"
        response = check(await self._send(request, action=action), action, usps_message)
        answer = validated(TokenAnswer, _json(response, action), action)
        return answer.access_token, answer.expires_in or DEFAULT_TOKEN_SECONDS

    async def _fetch_payment_token(self) -> tuple[str, float]:
        action = "USPS payment authorization"
        body = payment_authorization_body(self._settings)
        response = await self._call("POST", PAYMENT_PATH, action=action, json=body)
        answer = validated(
            PaymentAuthorization, _json(check(response, action, usps_message), action), action
        )
        return answer.paymentAuthorizationToken, PAYMENT_TOKEN_SECONDS


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: USPS answered without JSON") from None
