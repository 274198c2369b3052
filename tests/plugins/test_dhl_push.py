"""DHL Shipment Tracking - Unified - Push: the subscription made after each label, DHL's
validate / ready / failure / push messages (fixtures push_*.json, built from DHL's Push
collections and the Shipment Tracking - Unified answers in track_*.json) and their token."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.domain.messages import WebhookRequest
from hub.domain.tracking import TrackingStatus
from hub.errors import InvalidSignatureError, PermanentError, TransientError
from hub.plugin import PluginRuntime
from plugins.carriers.dhl import DhlCarrier, push, tracking
from tests.contract.common import host_for
from tests.contract.payloads import JSON, mutated
from tests.plugins.test_dhl import (  # noqa: F401  (dhl, runtime: pytest fixtures)
    BERLIN,
    NUMBER,
    dhl,
    fixture,
    label_request,
    make_settings,
    runtime,
)

PUSH_API = "https://api-eu.dhl.com/tracking/push/v1"
SUBSCRIBE = f"{PUSH_API}/subscription"
HOOK_URL = "https://hub.example.com/webhooks/carriers/dhl"
PUSH_TOKEN = "hub-test-push-token-4f9c2a7e1b8d6053"
SUBSCRIPTION = "3f1c9a2e-7b4d-4e8a-9c61-52d0a8e4b7f3"
ACTIVATE = f"{SUBSCRIBE}/{SUBSCRIPTION}"
SECRET = fixture("push_validate.json")["secret"]
PUSH_FIXTURES = [
    "push_validate.json",
    "push_ready.json",
    "push_failure.json",
    "push_delivered.json",
    "push_two_shipments.json",
]
T = TrackingStatus


def message(
    payload: Any, token: str | None = PUSH_TOKEN, header: str = "dhl-push-token"
) -> WebhookRequest:
    """A message as the hub's edge hands it over: header names lower-cased, the raw body."""
    headers = {"content-type": "application/json", "user-agent": "DHL-Push"}
    if token is not None:
        headers[header] = token
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return WebhookRequest(
        plugin="carriers.dhl",
        headers=headers,
        body=body,
        received_at=datetime(2026, 6, 24, 13, 5, tzinfo=UTC),
    )


@pytest.fixture
def push_api(dhl: respx.MockRouter) -> respx.MockRouter:  # noqa: F811
    dhl.post(SUBSCRIBE, name="subscribe").respond(
        201, json={"id": SUBSCRIPTION, "expires": "2026-07-24T13:02:00Z"}
    )
    dhl.post(ACTIVATE, name="activate").respond(204)
    return dhl


@pytest.fixture
async def pushing(
    push_api: respx.MockRouter,
    runtime: PluginRuntime,  # noqa: F811
) -> AsyncIterator[DhlCarrier]:
    carrier = DhlCarrier(make_settings(push_url=HOOK_URL, push_token=PUSH_TOKEN), runtime)
    yield carrier
    await carrier.aclose()


# --------------------------------------------------------------------------- settings


def test_push_settings_are_checked() -> None:
    settings = make_settings(push_url=HOOK_URL, push_token=PUSH_TOKEN)
    assert settings.push_header == "DHL-Push-Token" and settings.push_api_url == PUSH_API
    assert PUSH_TOKEN not in repr(settings)
    assert make_settings(push_token=PUSH_TOKEN).push_url is None  # pushes to a manual hook
    refused: list[dict[str, Any]] = [
        {"push_url": HOOK_URL},  # no token
        {"push_url": "http://hub.example.com/webhooks/carriers/dhl", "push_token": PUSH_TOKEN},
        {"push_url": "https:///webhooks/carriers/dhl", "push_token": PUSH_TOKEN},
        {"push_token": "too-short"},
        {"push_token": "a token with spaces in it, long enough to pass"},
        {"push_header": "DHL Push Token"},
        {"push_header": "Push:Token"},
        {"push_header": "X-Push-Token"},  # would be copied into the rejects file
        {"push_api_url": "http://api-eu.dhl.com/tracking/push/v1"},
    ]
    for overrides in refused:
        with pytest.raises(ValidationError) as caught:
            make_settings(**overrides)
        assert PUSH_TOKEN not in str(caught.value)


# --------------------------------------------------------------------------- subscription


async def test_a_new_label_is_subscribed_to_push(
    pushing: DhlCarrier, push_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="plugins.carriers.dhl"):
        label = await pushing.carrier_buy_label(label_request())
    (call,) = push_api["subscribe"].calls
    assert call.request.headers["dhl-api-key"] == "hub-test-api-key"
    assert json.loads(call.request.content) == {
        "hook": {
            "uri": HOOK_URL,
            "authentication": {
                "type": "ApiKeyAuthentication",
                "header": "DHL-Push-Token",
                "token": PUSH_TOKEN,
            },
        },
        "format": "Default",
        "type": "Shipment",
        "service": "parcel-de",
        "events": ["Pre-Transit", "Transit", "Delivered", "Failure", "Unknown"],
        "shipmentIDs": list(label.tracking_numbers),
    }
    assert SUBSCRIPTION in caplog.text and PUSH_TOKEN not in caplog.text


async def test_the_tracking_key_and_the_configured_api_are_used(
    push_api: respx.MockRouter,
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    test_host = "https://api-test.dhl.com/tracking/push/v1"
    route = push_api.post(f"{test_host}/subscription").respond(201, json={"id": "s-1"})
    carrier = DhlCarrier(
        make_settings(
            push_url=HOOK_URL,
            push_token=PUSH_TOKEN,
            push_header="Authorization",
            push_api_url=test_host,
            tracking_api_key="hub-test-tracking-key",
        ),
        runtime,
    )
    try:
        assert await carrier.client.subscribe_push([NUMBER]) == ["s-1"]
    finally:
        await carrier.aclose()
    request = route.calls.last.request
    assert request.headers["dhl-api-key"] == "hub-test-tracking-key"
    assert json.loads(request.content)["hook"]["authentication"]["header"] == "Authorization"
    assert not push_api["subscribe"].called


async def test_subscriptions_go_ten_shipments_at_a_time(
    pushing: DhlCarrier, push_api: respx.MockRouter
) -> None:
    numbers = [f"3404343104280917{i:02d}" for i in range(23)]
    push_api["subscribe"].mock(
        side_effect=[
            httpx.Response(201, json={"id": "first"}),
            httpx.Response(202, json={"subscriptionId": "second"}),
            httpx.Response(201, json={"self": f"{SUBSCRIBE}/third"}),
        ]
    )
    ids = await pushing.client.subscribe_push([*numbers, numbers[0]])  # a repeat is sent once
    assert ids == ["first", "second", "third"]
    batches = [json.loads(c.request.content)["shipmentIDs"] for c in push_api["subscribe"].calls]
    assert batches == [numbers[:10], numbers[10:20], numbers[20:]]


async def test_an_answer_without_a_usable_id_is_only_logged(
    pushing: DhlCarrier, push_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    push_api["subscribe"].mock(
        side_effect=[
            httpx.Response(201, text="created"),
            httpx.Response(201, json={"id": "../../orders"}),
        ]
    )
    assert await pushing.client.subscribe_push([NUMBER]) == []
    assert await pushing.client.subscribe_push([NUMBER]) == []
    assert caplog.text.count("without a subscription id") == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"title": "Internal Server Error", "status": 500}),
        httpx.Response(429, json={"title": "Too many requests", "status": 429}),
        httpx.Response(400, json={"title": "Bad Request", "detail": "hook.uri is unreachable"}),
        httpx.ConnectError("refused"),
    ],
)
async def test_a_failed_subscription_only_logs_and_the_label_stands(
    pushing: DhlCarrier,
    push_api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    failure: httpx.Response | Exception,
) -> None:
    push_api["subscribe"].mock(side_effect=[failure])
    with caplog.at_level(logging.DEBUG, logger="plugins.carriers.dhl"):
        label = await pushing.carrier_buy_label(label_request())
    assert label.tracking_numbers == (NUMBER,) and push_api["subscribe"].called
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("polling instead" in r.getMessage() for r in warnings)
    assert PUSH_TOKEN not in caplog.text


async def test_without_push_url_nothing_is_subscribed(
    push_api: respx.MockRouter,
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    carrier = DhlCarrier(make_settings(push_token=PUSH_TOKEN), runtime)
    try:
        await carrier.carrier_buy_label(label_request())
    finally:
        await carrier.aclose()
    assert not push_api["subscribe"].called


# --------------------------------------------------------------------------- validate etc.


@pytest.mark.parametrize(
    "self_url",
    [
        ACTIVATE,
        # Only the id is taken from the message: never its host, path or query (no SSRF).
        f"https://attacker.example/tracking/push/v1/subscription/{SUBSCRIPTION}/?x=1",
    ],
)
async def test_validate_activates_the_subscription_at_the_configured_api(
    pushing: DhlCarrier,
    push_api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    self_url: str,
) -> None:
    payload = {**fixture("push_validate.json"), "self": self_url}
    with caplog.at_level(logging.DEBUG):
        update = await pushing.carrier_parse_tracking_webhook(message(payload))
    assert update.events == ()
    (call,) = push_api["activate"].calls
    request = call.request
    assert str(request.url) == ACTIVATE and request.method == "POST"
    assert request.headers["dhl-api-hook-secret"] == SECRET
    assert request.headers["dhl-api-key"] == "hub-test-api-key"
    assert request.content == b""
    assert SUBSCRIPTION in caplog.text
    assert SECRET not in caplog.text and PUSH_TOKEN not in caplog.text


async def test_activation_errors_propagate_without_the_secret(
    pushing: DhlCarrier, push_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    push_api["activate"].mock(
        side_effect=[
            httpx.Response(503, json={"title": "Service Unavailable", "status": 503}),
            httpx.Response(404, json={"title": "Not Found", "detail": "unknown subscription"}),
            httpx.ReadTimeout("slow"),
        ]
    )
    validate = message(fixture("push_validate.json"))
    with caplog.at_level(logging.DEBUG):
        # 503 at the edge: DHL sends the validate message again later.
        with pytest.raises(TransientError) as transient:
            await pushing.carrier_parse_tracking_webhook(validate)
        # 400 at the edge, recorded in the rejects file.
        with pytest.raises(PermanentError, match="unknown subscription") as permanent:
            await pushing.carrier_parse_tracking_webhook(validate)
        with pytest.raises(TransientError) as timeout:
            await pushing.carrier_parse_tracking_webhook(validate)
    for caught in (transient, permanent, timeout):
        assert SECRET not in str(caught.value) and SUBSCRIPTION in str(caught.value)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "change",
    [
        {"self": None},
        {"self": f"{SUBSCRIBE}/not%20an%20id"},
        {"self": f"{SUBSCRIBE}/{'a' * 101}"},
        {"self": 42},
        {"secret": None},
        {"secret": ""},
        {"secret": "two\r\nlines"},
        {"secret": ["k8Jq2vX9rT4m"]},
    ],
)
async def test_a_validate_message_that_cannot_be_answered_is_refused_before_any_call(
    pushing: DhlCarrier, push_api: respx.MockRouter, change: dict[str, Any]
) -> None:
    payload = {**fixture("push_validate.json"), **change}
    with pytest.raises(PermanentError, match=r"^DHL push:") as caught:
        await pushing.carrier_parse_tracking_webhook(message(payload))
    assert "two" not in str(caught.value)  # a secret is never quoted
    assert not push_api["activate"].called


async def test_activation_builds_no_url_from_a_bad_id(pushing: DhlCarrier) -> None:
    for bad in ("../../orders", "a/b", "", "x" * 101, "id?admin=1"):
        with pytest.raises(PermanentError, match="not a subscription id"):
            await pushing.client.activate_push(bad, SECRET)
    with pytest.raises(PermanentError, match="not a header value") as caught:
        await pushing.client.activate_push(SUBSCRIPTION, "bad\nsecret")
    assert "bad\nsecret" not in str(caught.value)


async def test_ready_and_failure_are_acknowledged_and_logged(
    pushing: DhlCarrier, push_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="plugins.carriers.dhl"):
        ready = await pushing.carrier_parse_tracking_webhook(message(fixture("push_ready.json")))
        failed = await pushing.carrier_parse_tracking_webhook(message(fixture("push_failure.json")))
    assert ready.events == () and failed.events == ()
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    text = warning.getMessage()
    assert SUBSCRIPTION in text and "Hook not reachable" in text and "10 seconds" in text
    assert "HTTP 502" in text
    assert not push_api["activate"].called and not push_api["subscribe"].called


# --------------------------------------------------------------------------- pushes


async def test_a_push_reads_like_the_polled_answer(pushing: DhlCarrier) -> None:
    update = await pushing.carrier_parse_tracking_webhook(message(fixture("push_delivered.json")))
    polled = tracking.parse_tracking(NUMBER, fixture("track_delivered.json"), BERLIN)
    assert update == polled
    assert [e.status for e in update.events] == [
        T.PRE_TRANSIT,
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.OUT_FOR_DELIVERY,
        T.DELIVERED,
    ]
    last = update.events[-1]
    assert last.tracking_number == NUMBER and last.location == "51147 Köln, DE"
    assert last.occurred_at == datetime(2026, 6, 24, 11, 2, tzinfo=UTC)  # 13:02 in Berlin


async def test_a_push_of_several_shipments_gives_each_its_events(pushing: DhlCarrier) -> None:
    update = await pushing.carrier_parse_tracking_webhook(
        message(fixture("push_two_shipments.json"))
    )
    by_number = {
        n: [e.status for e in update.events if e.tracking_number == n]
        for n in {e.tracking_number for e in update.events}
    }
    assert by_number == {
        NUMBER: [T.DELIVERY_FAILED, T.AVAILABLE_FOR_PICKUP],
        "340434310428091717": [T.PRE_TRANSIT],  # only a status, no events
    }
    first = [e for e in update.events if e.tracking_number == NUMBER]
    assert first[-1].estimated_delivery == datetime(2026, 6, 24, 16, 0, tzinfo=UTC)


async def test_a_push_with_no_shipments_or_no_events_is_empty(pushing: DhlCarrier) -> None:
    payload = fixture("push_delivered.json")
    for shipments in ([], [{"id": NUMBER, "service": "parcel-de", "events": []}]):
        update = await pushing.carrier_parse_tracking_webhook(
            message({**payload, "shipments": shipments})
        )
        assert update.events == ()


async def test_through_the_plugin_host(pushing: DhlCarrier) -> None:
    host = host_for(pushing)
    update = await host.parse_tracking_webhook("dhl", message(fixture("push_delivered.json")))
    assert update.events[-1].status is T.DELIVERED


# --------------------------------------------------------------------------- token


async def test_wrong_missing_or_unconfigured_token_is_refused(
    pushing: DhlCarrier,
    push_api: respx.MockRouter,
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    validate = fixture("push_validate.json")
    for request in (
        message(validate, token=PUSH_TOKEN[:-1] + "0"),
        message(validate, token=None),
        message(validate, token=""),
        message(validate, header="authorization"),
        message(b"not even json", token="guess"),  # the token is checked before the body
    ):
        with pytest.raises(InvalidSignatureError) as caught:
            await pushing.carrier_parse_tracking_webhook(request)
        assert PUSH_TOKEN not in str(caught.value)
    assert not push_api["activate"].called

    unconfigured = DhlCarrier(make_settings(), runtime)
    try:
        with pytest.raises(InvalidSignatureError, match="no push_token"):
            await unconfigured.carrier_parse_tracking_webhook(message(validate))
    finally:
        await unconfigured.aclose()


async def test_the_token_is_read_from_the_configured_header(
    push_api: respx.MockRouter,
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    carrier = DhlCarrier(make_settings(push_token=PUSH_TOKEN, push_header="DHL-Hub-Auth"), runtime)
    try:
        ready = fixture("push_ready.json")
        assert (
            await carrier.carrier_parse_tracking_webhook(message(ready, header="dhl-hub-auth"))
        ) is not None
        with pytest.raises(InvalidSignatureError, match="DHL-Hub-Auth"):
            await carrier.carrier_parse_tracking_webhook(message(ready))
    finally:
        await carrier.aclose()


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"scope": "subscription.unknown"}',
        b'{"scope": 7}',
        b'{"scope": "subscription.push", "self": "x"}',
        b'{"scope": "subscription.push", "shipments": {"id": "340434310428091700"}}',
        b'{"scope": "subscription.push", "shipments": [{"service": "parcel-de"}]}',
        b'{"scope": "subscription.push", "shipments": [{"id": "  "}]}',
        b'{"scope": "subscription.push", "shipments": [{"id": "../poll:ups"}]}',
        b'{"scope": "subscription.push", "shipments": ["340434310428091700"]}',
        b'{"scope": "subscription.push", "shipments": [{"id": "340434310428091700", '
        b'"events": [{"statusCode": "transit", "timestamp": "yesterday"}]}]}',
    ],
)
def test_malformed_messages_are_permanent_errors(body: bytes) -> None:
    with pytest.raises(PermanentError, match=r"^DHL push:"):
        push.parse_push(body, BERLIN)


def test_subscription_ids_in_dhl_answers() -> None:
    assert push.subscription_id_of({"id": "a1", "subscriptionId": "b2"}) == "a1"
    assert push.subscription_id_of({"subscriptionId": "b2"}) == "b2"
    assert push.subscription_id_of({"self": f"{SUBSCRIBE}/c3/"}) == "c3"
    for unusable in (None, [], {}, {"id": 5}, {"id": "a b"}, {"self": f"{SUBSCRIBE}/"}):
        assert push.subscription_id_of(unusable) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, st.sampled_from(PUSH_FIXTURES).map(fixture).flatmap(mutated)))
def test_any_mutated_message_is_understood_or_a_clear_error(payload: Any) -> None:
    try:
        parsed = push.parse_push(json.dumps(payload).encode(), BERLIN)
    except PermanentError as exc:
        assert str(exc).startswith("DHL push:")
        return
    if parsed.scope is push.Scope.VALIDATE:
        assert parsed.subscription_id and parsed.secret
    if parsed.subscription_id is not None:
        assert push.SUBSCRIPTION_ID.fullmatch(parsed.subscription_id)
    times = [e.occurred_at for e in parsed.update.events]
    assert all(t.tzinfo is not None for t in times)
    for event in parsed.update.events:
        assert event.tracking_number.isalnum() and event.carrier_code
