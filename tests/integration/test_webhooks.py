"""The webhook edge through the real ASGI app and a real Temporal server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.service import RPCError

from hub.domain.messages import ChannelEvent, ChannelEventKind, MappingProblem, WebhookRequest
from hub.domain.order import Order
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.host import PluginHost
from hub.intake import Intake
from hub.plugin import Family, HubPlugin, PluginSettings
from hub.temporal import connect
from hub.webhooks import create_app
from tests.integration.helpers import edge_client

pytestmark = pytest.mark.integration
SECRET = b"whsec-test"


class EchoChannel(HubPlugin[PluginSettings]):
    """A channel whose webhook body is the hub's own Order JSON, signed like Shopify's."""

    family = Family.MARKETPLACES
    name = "echo"

    @hookimpl
    def marketplace_verify_webhook(self, request: WebhookRequest) -> bool:
        given = request.headers.get("x-echo-hmac-sha256", "")
        expected = base64.b64encode(
            hmac.new(SECRET, request.body, hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(given, expected)

    @hookimpl
    def marketplace_parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise PermanentError("body is not JSON") from None
        if not isinstance(body, dict) or "external_id" not in body:
            raise PermanentError("external_id: missing")
        kind = ChannelEventKind(request.headers.get("x-echo-topic", "order_upserted"))
        common: dict[str, Any] = {
            "kind": kind,
            "marketplace": "echo",
            "external_id": body["external_id"],
            "dedupe_key": request.headers["x-echo-event-id"],
            "occurred_at": datetime.now(UTC),
        }
        try:
            return [ChannelEvent(**common, order=Order.model_validate(body))]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            problem = MappingProblem(field=where, message=first["msg"])
            return [ChannelEvent(**common, problem=problem)]


def order_body(external_id: str) -> dict[str, Any]:
    return {
        "marketplace": "echo",
        "external_id": external_id,
        "placed_at": "2026-11-20T10:00:00+00:00",
        "currency": "EUR",
        "lines": [
            {
                "line_id": "1",
                "sku": "MUG-CER-350",
                "quantity": 1,
                "unit_price": {"amount": "16.00", "currency": "EUR"},
            }
        ],
        "customer": {"name": "Ada Lund", "email": "ada@example.com"},
        "shipping_address": {
            "name": "Ada Lund",
            "line1": "Storgatan 1",
            "city": "Stockholm",
            "postal_code": "114 55",
            "country": "SE",
        },
    }


def signed(
    body: dict[str, Any] | bytes, event_id: str, *, secret: bytes = SECRET
) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(secret, raw, hashlib.sha256).digest()).decode()
    return {
        "content": raw,
        "headers": {"X-Echo-Hmac-Sha256": signature, "X-Echo-Event-Id": event_id},
    }


@pytest.fixture
async def edge(hub_settings, tmp_path, monkeypatch):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    monkeypatch.setenv("HUB_CONFIG", str(empty))  # only the echo channel, none of the defaults
    settings = hub_settings(
        marketplaces={"echo": {}},
        warehouses={},
        packaging={},
        inserts={},
        carriers={},
        notifiers={},
    )
    host = PluginHost.from_settings(settings, extra_plugins=[EchoChannel])
    client = await connect(settings)
    intake = Intake(
        client, settings.temporal.task_queue, settings.orders, tmp_path / "problems.jsonl"
    )
    app = create_app(host, intake, tmp_path / "rejects.jsonl")
    async with edge_client(app) as http:
        yield http, client, tmp_path


async def workflow_exists(client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return True


async def test_good_signature_starts_the_order(edge):
    http, client, _ = edge
    response = await http.post("/webhooks/echo", **signed(order_body("W1"), "evt-1"))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": ["started"]}
    assert await workflow_exists(client, "order:echo:W1")


async def test_bad_or_missing_signature_is_refused_and_starts_nothing(edge):
    http, client, _ = edge
    bad = signed(order_body("W2"), "evt-2", secret=b"wrong")
    assert (await http.post("/webhooks/echo", **bad)).status_code == 401
    unsigned = signed(order_body("W2"), "evt-2")
    del unsigned["headers"]["X-Echo-Hmac-Sha256"]
    assert (await http.post("/webhooks/echo", **unsigned)).status_code == 401
    assert not await workflow_exists(client, "order:echo:W2")


async def test_duplicate_and_out_of_order_deliveries_fold_into_one_workflow(edge):
    http, client, _ = edge
    updated_first = signed(order_body("W3"), "evt-updated")
    created_late = signed(order_body("W3"), "evt-created")
    assert (await http.post("/webhooks/echo", **updated_first)).json() == {"accepted": ["started"]}
    assert (await http.post("/webhooks/echo", **created_late)).json() == {"accepted": ["updated"]}
    assert (await http.post("/webhooks/echo", **updated_first)).json() == {"accepted": ["updated"]}
    runs = [wf async for wf in client.list_workflows("WorkflowId='order:echo:W3'")]
    assert len(runs) <= 1  # visibility may lag; describe proves the one run
    assert await workflow_exists(client, "order:echo:W3")


async def test_malformed_payload_is_a_4xx_and_recorded(edge):
    http, _, tmp_path = edge
    response = await http.post("/webhooks/echo", **signed(b"{not json", "evt-4"))
    assert response.status_code == 400
    assert "body is not JSON" in response.json()["error"]
    rejects = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert json.loads(rejects[-1])["reason"] == "body is not JSON"


async def test_unmappable_order_is_recorded_not_dropped(edge):
    http, _, tmp_path = edge
    body = order_body("W5") | {"currency": "ZZZ"}
    response = await http.post("/webhooks/echo", **signed(body, "evt-5"))
    assert response.json() == {"accepted": ["recorded_problem"]}
    problem = json.loads((tmp_path / "problems.jsonl").read_text().splitlines()[-1])
    assert problem["external_id"] == "W5" and "currency" in problem["problem"].lower()


async def test_unknown_plugin_is_404(edge):
    http, _, _ = edge
    assert (await http.post("/webhooks/nope", content=b"{}")).status_code == 404
