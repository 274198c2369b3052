"""Thin PostNord HTTP client over :mod:`hub.http`: the API key, pacing and error mapping.

- Auth: every PostNord API used here takes the key as the ``apikey`` query parameter (Booking
  APIs 3.5.29.1, Track & Trace, Transit Time 2.0.3: ``SECURED: False``, parameter ``apikey``).
  The key is added by the transport, on the wire only, so it never appears in the URLs httpx
  logs or in error messages. There is no token: a 401/403 means the key is wrong or lacks the
  API product, which retrying cannot fix (``PermanentError``).
- Errors: PostNord's ``errorResponse`` (``message`` + ``compositeFault.faults``) or the API
  gateway's ``{"error": {...}}``; 429 and 5xx are transient (``Retry-After`` honoured), other
  4xx permanent (:func:`hub.http.check`).
- Booking is not idempotent: sent once with ``side_effect=True``, and an HTTP 5xx other than
  503 after it reached PostNord is ambiguous, never retried here.
- Pacing: PostNord publishes no rate figure; a token bucket spends ``requests_per_second``.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from hub.domain.shipment import LabelFormat
from hub.errors import AmbiguousOutcomeError, TransientError
from hub.http import RateLimiter, check, default_message, new_client, send
from plugins.carriers.postnord.booking import EDI_PATH, LABEL_PATHS
from plugins.carriers.postnord.mapping import error_message
from plugins.carriers.postnord.settings import PostnordSettings
from plugins.carriers.postnord.tracking import REFERENCE_PATH, TRACK_PATH
from plugins.carriers.postnord.transit import PATH as TRANSIT_PATH

log = logging.getLogger(__name__)

LABELS_BY_ID_PATHS = {
    LabelFormat.PDF: "/rest/shipment/v3/labels/ids/pdf",
    LabelFormat.ZPL: "/rest/shipment/v3/labels/ids/zpl",
}
_ACCOUNT = "default"
_ANY = "*"


def postnord_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return default_message(response)
    return error_message(payload) or default_message(response)


class ApiKeyTransport(httpx.AsyncBaseTransport):
    """Adds ``apikey`` to each request as it leaves, so the key is in no logged URL."""

    def __init__(self, api_key: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._api_key = api_key
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wire = httpx.Request(
            request.method,
            request.url.copy_merge_params({"apikey": self._api_key}),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(wire)

    async def aclose(self) -> None:
        await self._inner.aclose()


class PostnordClient:
    def __init__(self, settings: PostnordSettings) -> None:
        self._http = new_client(
            settings.base_url,
            transport=ApiKeyTransport(settings.api_key.get_secret_value()),
            headers={"Accept": "application/json"},
        )
        rate = settings.requests_per_second
        self._pace = RateLimiter({_ANY: (rate, max(1.0, rate))})

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ booking

    async def book(
        self, fmt: LabelFormat, body: dict[str, Any], params: dict[str, str], *, reference: str
    ) -> Any:
        """Book and get the labels in one call. Any answer that does not prove PostNord turned
        the request away (4xx, 429, 503) is ambiguous: the booking may exist."""
        action = f"PostNord booking {reference}"
        request = self._http.build_request("POST", LABEL_PATHS[fmt], json=body, params=params)
        response = await self._send(request, action, side_effect=True)
        status = response.status_code
        if status >= 500 and status != 503:
            raise AmbiguousOutcomeError(
                f"{action}: HTTP {status} after the request reached PostNord: "
                f"{postnord_message(response)}"
            )
        check(response, action, postnord_message)
        try:
            return response.json()
        except ValueError:
            raise AmbiguousOutcomeError(f"{action}: PostNord answered without JSON") from None

    async def labels_by_ids(
        self, fmt: LabelFormat, body: list[dict[str, str]], params: dict[str, str]
    ) -> Any:
        """The labels of parcels already booked (``/v3/labels/ids/{pdf|zpl}``)."""
        action = f"PostNord labels of {', '.join(entry['id'] for entry in body)}"
        request = self._http.build_request(
            "POST", LABELS_BY_ID_PATHS[fmt], json=body, params=params
        )
        return _json(check(await self._send(request, action), action, postnord_message), action)

    async def delete(self, body: dict[str, Any], *, reference: str) -> Any:
        """Send a Deletion. Repeating one is harmless, so a lost answer is just transient."""
        action = f"PostNord cancellation of {reference}"
        request = self._http.build_request("POST", EDI_PATH, json=body)
        return _json(check(await self._send(request, action), action, postnord_message), action)

    # ------------------------------------------------------------------ tracking

    async def track(self, item_id: str) -> Any | None:
        action = f"PostNord tracking of {item_id}"
        request = self._http.build_request(
            "GET", TRACK_PATH, params={"id": item_id, "locale": "en"}
        )
        response = await self._send(request, action)
        if response.status_code == 404:
            return None
        return _json(check(response, action, postnord_message), action)

    async def find_by_reference(self, customer_number: str, reference: str) -> Any | None:
        action = f"PostNord lookup of reference {reference}"
        path = REFERENCE_PATH.format(customer_number, reference)
        request = self._http.build_request("GET", path, params={"locale": "en"})
        response = await self._send(request, action)
        if response.status_code == 404:
            return None
        return _json(check(response, action, postnord_message), action)

    async def transit_times(self, params: dict[str, str]) -> Any:
        action = "PostNord transit times"
        request = self._http.build_request("GET", TRANSIT_PATH, params=params)
        return _json(check(await self._send(request, action), action, postnord_message), action)

    # ------------------------------------------------------------------ plumbing

    async def _send(
        self, request: httpx.Request, action: str, *, side_effect: bool = False
    ) -> httpx.Response:
        await self._pace.acquire(_ACCOUNT, _ANY)
        response = await send(self._http, request, action=action, side_effect=side_effect)
        if response.status_code == 429:
            self._pace.drain(_ACCOUNT, _ANY)
        log.debug("%s: HTTP %s", action, response.status_code)
        return response


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{action}: PostNord answered without JSON") from None
