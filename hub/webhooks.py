"""`POST /webhooks/{plugin}`: the ASGI edge where channels push orders in, and
`POST /webhooks/carriers/{carrier}` where carriers push tracking events.

Order of work per delivery: verify the signature on the raw body (401 if wrong: nothing
starts), parse (400 with the reason if malformed, recorded for ops), hand every event to the
intake, and only then answer 2xx. A Temporal outage answers 503 so the channel retries.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.service import RPCError, RPCStatusCode

from hub.domain.messages import WebhookRequest
from hub.domain.tracking import TrackingEvent
from hub.errors import InvalidSignatureError, PermanentError, TransientError
from hub.host import PluginHost
from hub.intake import Intake
from hub.plugin import Family
from hub.workflows.contracts import TrackingPush, tracking_workflow_id

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(host: PluginHost, intake: Intake, rejects_file: Path) -> Starlette:
    marketplaces = set(host.names(Family.MARKETPLACES))
    carriers = set(host.names(Family.CARRIERS))

    async def receive(request: Request) -> JSONResponse:
        plugin = request.path_params["plugin"]
        if plugin not in marketplaces:
            return JSONResponse({"error": f"no enabled marketplace '{plugin}'"}, status_code=404)
        webhook = await _webhook(request, plugin)
        if webhook is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if not await host.verify_webhook(plugin, webhook):
            log.warning("webhook for %s refused: bad or missing signature", plugin)
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            events = await host.parse_webhook(plugin, webhook)
        except PermanentError as exc:
            _record_reject(rejects_file, plugin, str(exc), webhook)
            return JSONResponse({"error": f"malformed payload: {exc}"}, status_code=400)
        except TransientError as exc:
            return _unavailable(plugin, str(exc))
        try:
            outcomes = [await intake.handle_event(event) for event in events]
        except RPCError as exc:
            return _unavailable(plugin, f"Temporal: {exc.message}")
        return JSONResponse({"accepted": [o.value for o in outcomes]})

    async def receive_tracking(request: Request) -> JSONResponse:
        """A carrier's tracking push, signalled into each parcel's tracking workflow."""
        carrier = request.path_params["carrier"]
        if carrier not in carriers:
            return JSONResponse({"error": f"no enabled carrier '{carrier}'"}, status_code=404)
        webhook = await _webhook(request, f"carriers.{carrier}")
        if webhook is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            update = await host.parse_tracking_webhook(carrier, webhook)
        except InvalidSignatureError:
            log.warning("tracking push for %s refused: bad or missing signature", carrier)
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        except PermanentError as exc:
            _record_reject(rejects_file, f"carriers.{carrier}", str(exc), webhook)
            return JSONResponse({"error": f"malformed payload: {exc}"}, status_code=400)
        except TransientError as exc:
            return _unavailable(carrier, str(exc))
        by_parcel: dict[str, list[TrackingEvent]] = defaultdict(list)
        for event in update.events:
            by_parcel[event.tracking_number].append(event)
        delivered: dict[str, str] = {}
        try:
            for tracking_number, events in by_parcel.items():
                delivered[tracking_number] = await _push(carrier, tracking_number, events)
        except RPCError as exc:
            return _unavailable(carrier, f"Temporal: {exc.message}")
        return JSONResponse({"parcels": delivered})

    async def _push(carrier: str, tracking_number: str, events: list[TrackingEvent]) -> str:
        handle = intake.client.get_workflow_handle(tracking_workflow_id(carrier, tracking_number))
        try:
            await handle.signal("tracking_events", TrackingPush(events=tuple(events)))
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                # Not a parcel the hub tracks (any more): acknowledge so the carrier stops.
                return "not_tracked"
            raise
        return "signalled"

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/carriers/{carrier}", receive_tracking, methods=["POST"]),
            Route("/webhooks/{plugin}", receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


async def _webhook(request: Request, plugin: str) -> WebhookRequest | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    return WebhookRequest(
        plugin=plugin,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        received_at=datetime.now(UTC),
    )


def _unavailable(plugin: str, reason: str) -> JSONResponse:
    """503: the sender retries later; nothing was taken in."""
    log.error("webhook for %s not taken in: %s", plugin, reason)
    return JSONResponse({"error": "temporarily unavailable"}, status_code=503)


def _record_reject(path: Path, plugin: str, reason: str, webhook: WebhookRequest) -> None:
    """Keep what ops need to chase a malformed delivery: no body (it holds personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "plugin": plugin,
        "reason": reason,
        "received_at": webhook.received_at.isoformat(),
        "size": len(webhook.body),
        "headers": {
            k: v
            for k, v in webhook.headers.items()
            if k.startswith("x-") and "hmac" not in k and "signature" not in k
        },
    }
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
