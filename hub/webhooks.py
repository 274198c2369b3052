"""`POST /webhooks/{plugin}`: the ASGI edge where channels push orders in.

Order of work per delivery: verify the signature on the raw body (401 if wrong: nothing
starts), parse (400 with the reason if malformed, recorded for ops), hand every event to the
intake, and only then answer 2xx. A Temporal outage answers 503 so the channel retries.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.service import RPCError

from hub.domain.messages import WebhookRequest
from hub.errors import PermanentError
from hub.host import PluginHost
from hub.intake import Intake
from hub.plugin import Family

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(host: PluginHost, intake: Intake, rejects_file: Path) -> Starlette:
    marketplaces = set(host.names(Family.MARKETPLACES))

    async def receive(request: Request) -> JSONResponse:
        plugin = request.path_params["plugin"]
        if plugin not in marketplaces:
            return JSONResponse({"error": f"no enabled marketplace '{plugin}'"}, status_code=404)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        webhook = WebhookRequest(
            plugin=plugin,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=datetime.now(UTC),
        )
        if not await host.verify_webhook(plugin, webhook):
            log.warning("webhook for %s refused: bad or missing signature", plugin)
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            events = await host.parse_webhook(plugin, webhook)
        except PermanentError as exc:
            _record_reject(rejects_file, plugin, str(exc), webhook)
            return JSONResponse({"error": f"malformed payload: {exc}"}, status_code=400)
        try:
            outcomes = [await intake.handle_event(event) for event in events]
        except RPCError as exc:
            log.error("webhook for %s not taken in, Temporal unavailable: %s", plugin, exc.message)
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        return JSONResponse({"accepted": [o.value for o in outcomes]})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/{plugin}", receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


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
