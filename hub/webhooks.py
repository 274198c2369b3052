"""`POST /webhooks/{plugin}`: the ASGI edge where channels push orders in, and
`POST /webhooks/carriers/{carrier}` where carriers push tracking events.

Order of work per delivery: verify the signature on the raw body (401 if wrong: nothing
starts), parse (400 with the reason if malformed, recorded for ops), hand every event to the
intake, and only then answer 2xx. A Temporal outage answers 503 so the channel retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from hub.domain.messages import WebhookRequest
from hub.domain.tracking import TrackingEvent
from hub.errors import InvalidSignatureError, PermanentError, TransientError
from hub.host import PluginHost
from hub.intake import Intake
from hub.plugin import Family
from hub.pushes import PushBuffer
from hub.workflows.contracts import TrackingPush, tracking_workflow_id

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(
    host: PluginHost, intake: Intake, rejects_file: Path, pushes: PushBuffer | None = None
) -> Starlette:
    """`pushes`: where early carrier pushes wait for their tracking workflow; by default the
    buffer of the data dir holding `rejects_file`, which the workers of that dir read."""
    early = pushes or PushBuffer.in_dir(rejects_file.parent)
    marketplaces = set(host.names(Family.MARKETPLACES))
    carriers = set(host.names(Family.CARRIERS))
    webhook_channels = _webhook_channels(host, marketplaces)

    async def receive(request: Request) -> JSONResponse:
        plugin = request.path_params["plugin"]
        if plugin not in marketplaces:
            return JSONResponse({"error": f"no enabled marketplace '{plugin}'"}, status_code=404)
        webhook = await _webhook(request, plugin)
        if webhook is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if plugin not in webhook_channels:
            why = f"marketplace '{plugin}' takes no webhooks: its orders come in by polling"
            _record_reject(rejects_file, plugin, why, webhook)
            return JSONResponse({"error": why}, status_code=404)
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
            outcomes = await intake.take_delivery(plugin, events)
        except RPCError as exc:
            return _unavailable(plugin, f"Temporal: {exc.message}")
        except TransientError as exc:  # the intake's ledger is busy
            return _unavailable(plugin, str(exc))
        return JSONResponse({"accepted": [o.value for o in outcomes]})

    async def receive_tracking(request: Request) -> JSONResponse:
        """A carrier's tracking push, signalled into each parcel's tracking workflow; per parcel
        the answer says `signalled`, `buffered` (tracking not started yet: kept for it),
        `dropped` (the buffer's bound reached) or `not_tracked` (its tracking has ended)."""
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
        except TransientError as exc:  # the push buffer is busy
            return _unavailable(carrier, str(exc))
        return JSONResponse({"parcels": delivered})

    async def _push(carrier: str, tracking_number: str, events: list[TrackingEvent]) -> str:
        handle = intake.client.get_workflow_handle(tracking_workflow_id(carrier, tracking_number))
        push = TrackingPush(events=tuple(events))

        async def signalled() -> bool:
            try:
                await handle.signal("tracking_events", push)
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    return False
                raise
            return True

        if await signalled():
            return "signalled"
        try:
            ended = (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            ended = False
        if ended:
            # The hub tracked this parcel and is done with it: acknowledge so the carrier stops.
            return "not_tracked"
        # Not started yet (the order is still confirming the shipment), or never will be: keep
        # the events for its first poll; the buffer's age bound clears the never.
        kept = await asyncio.to_thread(early.store, carrier, tracking_number, events)
        # Tracking may have started since the first signal and polled before the store; if it
        # still does not exist now, its first poll comes after the store and finds them.
        if await signalled():
            return "signalled"
        return "buffered" if kept else "dropped"

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def stats(_: Request) -> JSONResponse:
        """Deliveries answered 2xx that started or changed nothing, by cause, since start."""
        noops = intake.noops
        return JSONResponse({"since": noops.since.isoformat(), "no_ops": noops.counts()})

    return Starlette(
        routes=[
            Route("/webhooks/carriers/{carrier}", receive_tracking, methods=["POST"]),
            Route("/webhooks/{plugin}", receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/intake/stats", stats, methods=["GET"]),
        ]
    )


def _webhook_channels(host: PluginHost, marketplaces: set[str]) -> set[str]:
    """The marketplaces whose plugin reads webhooks; the others (eBay) are polled only."""
    hooks = {row["plugin"]: set(row["hooks"].split(",")) for row in host.describe()}
    needed = {"marketplace_verify_webhook", "marketplace_parse_webhook"}
    prefix = f"{Family.MARKETPLACES.value}."
    return {name for name in marketplaces if needed <= hooks.get(prefix + name, set())}


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
