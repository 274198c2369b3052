"""The webhook edge through the real ASGI app and a real Temporal server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from hub.domain.messages import ChannelEvent, ChannelEventKind, MappingProblem, WebhookRequest
from hub.domain.order import Order
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.host import PluginHost
from hub.intake import LATE_UPDATE_REASON
from hub.plugin import Family, HubPlugin, PluginSettings
from hub.temporal import build_intake, connect
from hub.webhooks import create_app
from plugins.marketplaces.shopify.events import TEST_ORDER
from tests.conftest import ROOT
from tests.integration.helpers import edge_client
from tests.plugins import test_shopify as shopify

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
    """The echo channel and three real ones (no worker: nothing here needs one to run)."""
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    monkeypatch.setenv("HUB_CONFIG", str(empty))  # only these channels, none of the defaults
    settings = hub_settings(
        marketplaces={
            "echo": {},
            "shopify": {
                "shop_domain": shopify.SHOP,
                "access_token": "shpat_0123456789abcdef0123456789abcdef",
                "client_secret": shopify.SECRET,
            },
            "sandbox": {"seed": 7, "catalog_file": str(ROOT / "config" / "catalog.toml")},
            "ebay": {"client_id": "id", "client_secret": "secret", "refresh_token": "token"},
        },
        warehouses={},
        packaging={},
        inserts={},
        carriers={},
        notifiers={},
    )
    host = PluginHost.from_settings(settings, extra_plugins=[EchoChannel])
    client = await connect(settings)
    app = create_app(host, build_intake(client, settings), tmp_path / "rejects.jsonl")
    try:
        async with edge_client(app) as http:
            yield http, client, tmp_path, host
    finally:
        await host.aclose()


async def workflow_exists(client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return True


async def test_good_signature_starts_the_order(edge):
    http, client, _, _ = edge
    response = await http.post("/webhooks/echo", **signed(order_body("W1"), "evt-1"))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": ["started"]}
    assert await workflow_exists(client, "order:echo:W1")


async def test_bad_or_missing_signature_is_refused_and_starts_nothing(edge):
    http, client, _, _ = edge
    bad = signed(order_body("W2"), "evt-2", secret=b"wrong")
    assert (await http.post("/webhooks/echo", **bad)).status_code == 401
    unsigned = signed(order_body("W2"), "evt-2")
    del unsigned["headers"]["X-Echo-Hmac-Sha256"]
    assert (await http.post("/webhooks/echo", **unsigned)).status_code == 401
    assert not await workflow_exists(client, "order:echo:W2")


async def test_duplicate_and_out_of_order_deliveries_fold_into_one_workflow(edge):
    http, client, _, _ = edge
    updated_first = signed(order_body("W3"), "evt-updated")
    created_late = signed(order_body("W3"), "evt-created")
    assert (await http.post("/webhooks/echo", **updated_first)).json() == {"accepted": ["started"]}
    assert (await http.post("/webhooks/echo", **created_late)).json() == {"accepted": ["updated"]}
    assert (await http.post("/webhooks/echo", **updated_first)).json() == {"accepted": ["updated"]}
    runs = [wf async for wf in client.list_workflows("WorkflowId='order:echo:W3'")]
    assert len(runs) <= 1  # visibility may lag; describe proves the one run
    assert await workflow_exists(client, "order:echo:W3")


async def test_malformed_payload_is_a_4xx_and_recorded(edge):
    http, _, tmp_path, _ = edge
    response = await http.post("/webhooks/echo", **signed(b"{not json", "evt-4"))
    assert response.status_code == 400
    assert "body is not JSON" in response.json()["error"]
    rejects = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert json.loads(rejects[-1])["reason"] == "body is not JSON"


async def test_unmappable_order_is_recorded_not_dropped(edge):
    http, _, tmp_path, _ = edge
    body = order_body("W5") | {"currency": "ZZZ"}
    response = await http.post("/webhooks/echo", **signed(body, "evt-5"))
    assert response.json() == {"accepted": ["recorded_problem"]}
    problem = json.loads((tmp_path / "intake-problems.jsonl").read_text().splitlines()[-1])
    assert problem["external_id"] == "W5" and "currency" in problem["problem"].lower()


async def test_unknown_plugin_is_404(edge):
    http, _, _, _ = edge
    assert (await http.post("/webhooks/nope", content=b"{}")).status_code == 404


# --------------------------------------------------------------------------- nothing vanishes


def no_ops(data_dir) -> list[dict[str, Any]]:
    path = data_dir / "intake-noops.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def post_shopify(http, topic: str, payload: dict[str, Any], **headers: str):
    webhook = shopify.delivery(topic, payload, **headers)
    return await http.post("/webhooks/shopify", content=webhook.body, headers=webhook.headers)


def real_order(**changes: Any) -> dict[str, Any]:
    """Shopify's documented sample, as a real (not test) order."""
    return {**shopify.load("webhook_orders_create.json"), "test": False, **changes}


async def test_an_order_whose_every_line_has_quantity_0_is_a_recorded_problem(edge):
    http, client, data_dir, _ = edge
    order = real_order(id=820982911946154601)
    for line in order["line_items"]:
        line["current_quantity"] = 0
    response = await post_shopify(http, "orders/create", order)
    assert (response.status_code, response.json()) == (200, {"accepted": ["recorded_problem"]})
    problem = json.loads((data_dir / "intake-problems.jsonl").read_text().splitlines()[-1])
    assert problem["external_id"] == "820982911946154601"
    assert problem["problem"].startswith("line_items:") and "quantity 0" in problem["problem"]
    assert not await workflow_exists(client, "order:shopify:820982911946154601")


async def test_a_removed_line_is_dropped_and_the_order_proceeds(edge):
    http, client, _, _ = edge
    order = real_order(id=820982911946154602)
    order["line_items"][2]["current_quantity"] = 0
    response = await post_shopify(http, "orders/create", order)
    assert response.json() == {"accepted": ["started"]}
    assert await workflow_exists(client, "order:shopify:820982911946154602")


@pytest.mark.parametrize(
    ("topic", "payload", "headers", "reason"),
    [
        (
            "orders/create",
            real_order(id=820982911946154603),
            {"x-shopify-shop-domain": "other.myshopify.com"},
            "shop not configured: other.myshopify.com",
        ),
        ("orders/create", real_order(id=820982911946154604, test=True), {}, TEST_ORDER),
        ("products/update", {"id": 788032119674292922}, {}, "topic products/update is not handled"),
    ],
    ids=["other shop", "test order", "unknown topic"],
)
async def test_a_signed_delivery_that_changes_nothing_is_recorded_and_counted(
    edge, caplog, topic: str, payload: dict[str, Any], headers: dict[str, str], reason: str
):
    http, client, data_dir, _ = edge
    with caplog.at_level(logging.WARNING, logger="hub.noops"):
        for event_id in ("evt-a", "evt-b"):  # two deliveries, one cause
            webhook = shopify.delivery(topic, payload, event_id=event_id, **headers)
            response = await http.post(
                "/webhooks/shopify", content=webhook.body, headers=webhook.headers
            )
            assert (response.status_code, response.json()) == (200, {"accepted": ["ignored"]})
    assert not await workflow_exists(client, f"order:shopify:{payload['id']}")
    rows = no_ops(data_dir)
    assert [(r["reason"], r["dedupe_key"], r["outcome"]) for r in rows] == [
        (reason, "evt-a", "ignored"),
        (reason, "evt-b", "ignored"),
    ]
    assert rows[0]["marketplace"] == "shopify" and rows[0]["external_id"] == str(payload["id"])
    text = json.dumps(rows)
    assert "John Smith" not in text and "jon@example.com" not in text and "Shipping" not in text
    assert [r.getMessage() for r in caplog.records if reason in r.getMessage()] == [
        f"shopify delivery taken in without effect (ignored): {reason}"
    ]
    stats = (await http.get("/intake/stats")).json()
    assert stats["no_ops"] == {reason: 2} and datetime.fromisoformat(stats["since"])


async def test_a_delivery_for_an_account_not_configured_is_recorded(edge):
    http, client, data_dir, host = edge
    channel = host.plugin(Family.MARKETPLACES, "sandbox")
    (payload,) = channel.place_orders(1)
    webhook = channel.signed_webhook("orders/create", payload)
    headers = {**webhook.headers, "x-sandbox-account": "another-shop"}  # body still signed
    response = await http.post("/webhooks/sandbox", content=webhook.body, headers=headers)
    assert response.json() == {"accepted": ["ignored"]}
    assert not await workflow_exists(client, f"order:sandbox:{payload['id']}")
    (row,) = no_ops(data_dir)
    assert row["reason"] == "account not configured: another-shop"
    assert (await http.get("/intake/stats")).json()["no_ops"] == {row["reason"]: 1}


async def test_a_cancellation_of_an_order_never_started_is_recorded(edge):
    http, _, data_dir, _ = edge
    cancel = signed(order_body("W-never"), "evt-cancel")
    cancel["headers"]["X-Echo-Topic"] = "order_cancelled"
    response = await http.post("/webhooks/echo", **cancel)
    assert response.json() == {"accepted": ["unknown_order"]}
    (row,) = no_ops(data_dir)
    assert (row["outcome"], row["external_id"]) == ("unknown_order", "W-never")
    assert row["reason"] == "cancellation of an order without a running workflow"


async def test_ebay_takes_no_webhooks_a_clear_404_recorded_never_a_500(edge):
    http, _, data_dir, _ = edge
    response = await http.post(
        "/webhooks/ebay", content=b'{"orderId": "12-34567-89012"}', headers={"X-Ebay-Test": "1"}
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": "marketplace 'ebay' takes no webhooks: its orders come in by polling"
    }
    (reject,) = [json.loads(line) for line in (data_dir / "rejects.jsonl").read_text().splitlines()]
    assert reject["plugin"] == "ebay" and "takes no webhooks" in reject["reason"]
    assert reject["headers"] == {"x-ebay-test": "1"}


# --------------------------------------------------------------------------- beyond retention


async def workflow_status(client, workflow_id: str) -> RPCStatusCode | None:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        return err.status
    return None


async def forget(client, workflow_id: str, timeout: float = 30) -> None:
    """What retention does to a closed run. Deleting a running workflow terminates and deletes it
    at once; deleting a closed one is a background task (about 30 s on the dev server)."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        )
    )
    deadline = time.monotonic() + timeout
    while await workflow_status(client, workflow_id) is not RPCStatusCode.NOT_FOUND:
        if time.monotonic() > deadline:
            raise AssertionError(f"{workflow_id} not deleted within {timeout} s")
        await asyncio.sleep(0.1)


async def test_a_late_update_of_an_order_past_retention_starts_nothing(edge):
    http, client, data_dir, _ = edge
    workflow_id = "order:echo:W-late"
    first = await http.post("/webhooks/echo", **signed(order_body("W-late"), "evt-created"))
    assert first.json() == {"accepted": ["started"]}
    await forget(client, workflow_id)
    # Without the ledger Temporal would now accept a start: the order would ship twice.
    late = await http.post("/webhooks/echo", **signed(order_body("W-late"), "evt-refunded"))
    assert (late.status_code, late.json()) == (200, {"accepted": ["late_update"]})
    assert await workflow_status(client, workflow_id) is RPCStatusCode.NOT_FOUND
    (row,) = no_ops(data_dir)
    assert (row["outcome"], row["reason"]) == ("late_update", LATE_UPDATE_REASON)
    assert (row["marketplace"], row["external_id"]) == ("echo", "W-late")
    stats = (await http.get("/intake/stats")).json()
    assert stats["no_ops"] == {LATE_UPDATE_REASON: 1}


async def test_an_update_of_a_finished_order_still_retained_is_recorded(edge):
    http, client, data_dir, _ = edge
    first = await http.post("/webhooks/echo", **signed(order_body("W-done"), "evt-1"))
    assert first.json() == {"accepted": ["started"]}
    await client.get_workflow_handle("order:echo:W-done").terminate(reason="test: finished")
    again = await http.post("/webhooks/echo", **signed(order_body("W-done"), "evt-2"))
    assert again.json() == {"accepted": ["already_done"]}
    (row,) = no_ops(data_dir)
    assert row["reason"] == "update of an order whose workflow has finished"
