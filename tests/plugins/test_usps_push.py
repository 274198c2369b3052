"""USPS pushes (Subscriptions - Tracking 3.2): the MID subscribed once after a label, pushes
verified by their X-HMAC signature and read like Tracking 3.2 answers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from hub.domain.messages import WebhookRequest
from hub.domain.tracking import TrackingStatus
from hub.errors import InvalidSignatureError, PermanentError
from hub.plugin import PluginRuntime
from plugins.carriers.usps import UspsCarrier, tracking
from plugins.carriers.usps.plugin import SUBSCRIPTION_FILE
from plugins.carriers.usps.push import parse_push, signature, verified_envelope
from plugins.carriers.usps.subscriptions import SUBSCRIPTIONS_PATH
from tests.contract.payloads import mutated
from tests.plugins.test_usps import (  # noqa: F401
    TRACKING_NUMBER,
    fixture,
    label_request,
    make_settings,
    runtime,
    usps,
)

SECRET = "s3cr3t-for-usps-pushes-0123456789abcdef"
HOOK_URL = "https://hub.example.com/webhooks/carriers/usps"
EMAIL = "ops@example.com"
SUBSCRIPTION_ID = "019db15c-05e8-7432-95dc-8c511d2f9a1b"
PUSHING = {
    "tracking_webhook_url": HOOK_URL,
    "tracking_webhook_secret": SECRET,
    "tracking_webhook_email": EMAIL,
}


def signed(
    envelope: dict[str, Any], secret: str = SECRET, header: str = "x-hmac"
) -> WebhookRequest:
    """The envelope as USPS posts it, signed over ``timestamp + payload``."""
    headers = {"content-type": "application/json"}
    if secret:
        headers[header] = signature(secret, envelope["timestamp"], envelope["payload"])
    return WebhookRequest(
        plugin="carriers.usps",
        headers=headers,
        body=json.dumps(envelope).encode(),
        received_at=datetime(2026, 6, 26, 17, 5, 13, tzinfo=UTC),
    )


def with_summary(summary: Any, subscription_type: str = "TRACKING") -> dict[str, Any]:
    envelope = fixture("push_delivered.json")
    envelope["payload"] = json.dumps(summary)
    envelope["subscriptionType"] = subscription_type
    return envelope


async def buy_in_another_worker(runtime: PluginRuntime, key: str, **settings: Any) -> None:  # noqa: F811
    """One label bought by a fresh plugin (a restarted or second worker) on the same state."""
    carrier = UspsCarrier(make_settings(**settings), runtime)
    try:
        await carrier.carrier_buy_label(label_request(idempotency_key=key))
    finally:
        await carrier.aclose()


@pytest.fixture
async def pushing(usps: respx.MockRouter, runtime: PluginRuntime) -> AsyncIterator[UspsCarrier]:  # noqa: F811
    usps.post(SUBSCRIPTIONS_PATH, name="subscribe").respond(
        201, json=fixture("subscription_created.json")
    )
    carrier = UspsCarrier(make_settings(**PUSHING), runtime)
    yield carrier
    await carrier.aclose()


# --------------------------------------------------------------------------- pushes


@pytest.mark.parametrize(
    ("name", "summary", "newest"),
    [
        ("push_delivered.json", "tracking_delivered.json", TrackingStatus.DELIVERED),
        ("push_in_transit.json", "tracking_in_transit.json", TrackingStatus.IN_TRANSIT),
    ],
)
async def test_a_signed_push_reads_like_the_tracking_answer(
    pushing: UspsCarrier, name: str, summary: str, newest: TrackingStatus
) -> None:
    update = await pushing.carrier_parse_tracking_webhook(signed(fixture(name)))
    assert update == tracking.parse_tracking(TRACKING_NUMBER, fixture(summary))
    assert update.events[-1].status is newest
    assert {e.tracking_number for e in update.events} == {TRACKING_NUMBER}


async def test_the_older_signature_header_is_accepted(pushing: UspsCarrier) -> None:
    push = signed(fixture("push_delivered.json"), header="hmac-header")
    assert (await pushing.carrier_parse_tracking_webhook(push)).events


async def test_forged_unsigned_or_tampered_pushes_are_refused(pushing: UspsCarrier) -> None:
    envelope = fixture("push_delivered.json")
    with pytest.raises(InvalidSignatureError, match="wrong"):
        await pushing.carrier_parse_tracking_webhook(signed(envelope, secret="x" * 40))
    with pytest.raises(InvalidSignatureError, match="no X-HMAC"):
        await pushing.carrier_parse_tracking_webhook(signed(envelope, secret=""))
    tampered = signed(envelope)
    forged = {**envelope, "payload": envelope["payload"].replace("Delivered", "Lost")}
    tampered = tampered.model_copy(update={"body": json.dumps(forged).encode()})
    with pytest.raises(InvalidSignatureError, match="wrong"):
        await pushing.carrier_parse_tracking_webhook(tampered)
    replayed_later = {**envelope, "timestamp": "2027-01-01T00:00:00Z"}
    moved = signed(envelope).model_copy(update={"body": json.dumps(replayed_later).encode()})
    with pytest.raises(InvalidSignatureError):
        await pushing.carrier_parse_tracking_webhook(moved)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"timestamp": 1, "payload": "{}"}'])
def test_a_body_that_cannot_be_checked_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidSignatureError):
        verified_envelope({"x-hmac": "c2lnbmF0dXJl"}, body, SECRET)


async def test_a_hub_without_a_secret_refuses_every_push(
    usps: respx.MockRouter,  # noqa: F811
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    carrier = UspsCarrier(make_settings(), runtime)
    try:
        with pytest.raises(InvalidSignatureError, match="no tracking_webhook_secret"):
            await carrier.carrier_parse_tracking_webhook(signed(fixture("push_delivered.json")))
    finally:
        await carrier.aclose()


async def test_other_subscription_types_are_acknowledged_unread(pushing: UspsCarrier) -> None:
    push = signed(with_summary({"scan": "raw"}, subscription_type="SCAN_EVENT_EXTRACT"))
    assert (await pushing.carrier_parse_tracking_webhook(push)).events == ()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not json", "payload is not JSON"),
        ("[1, 2]", "payload is not an object"),
        ("{}", "no trackingNumber"),
        ('{"trackingNumber": "../../admin"}', "not a USPS tracking number"),
    ],
)
def test_signed_but_malformed_payloads_are_permanent_errors(payload: str, reason: str) -> None:
    envelope = {**fixture("push_delivered.json"), "payload": payload}
    with pytest.raises(PermanentError, match=reason):
        parse_push(verified_envelope(signed(envelope).headers, signed(envelope).body, SECRET))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summary=mutated(fixture("tracking_delivered.json")))
def test_any_mutated_signed_push_is_events_or_a_clear_error(summary: Any) -> None:
    push = signed(with_summary(summary))
    envelope = verified_envelope(push.headers, push.body, SECRET)
    try:
        update = parse_push(envelope)
    except PermanentError as exc:
        assert str(exc).startswith("USPS")
        return
    for event in update.events:
        assert event.tracking_number and event.carrier_code
        assert event.occurred_at.tzinfo is not None


# --------------------------------------------------------------------------- subscription


async def test_the_first_label_subscribes_the_mid_once(
    pushing: UspsCarrier,
    usps: respx.MockRouter,  # noqa: F811
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    await pushing.carrier_buy_label(label_request())
    await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1002:S-2"))
    assert usps["subscribe"].call_count == 1
    call = usps["subscribe"].calls[0].request
    assert json.loads(call.content) == {
        "listenerURL": HOOK_URL,
        "secret": SECRET,
        "filterProperties": {"MID": "902345678"},
        "adminNotification": [{"email": EMAIL}],
    }
    assert call.headers["authorization"].startswith("Bearer ")

    # A restarted worker finds the subscription on disk and does not ask again.
    await buy_in_another_worker(runtime, "label:shopify:1003:S-3", **PUSHING)
    assert usps["subscribe"].call_count == 1


async def test_a_new_secret_subscribes_again(
    pushing: UspsCarrier,
    usps: respx.MockRouter,  # noqa: F811
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    await pushing.carrier_buy_label(label_request())
    rotated = {**PUSHING, "tracking_webhook_secret": "n" * 32}
    await buy_in_another_worker(runtime, "label:shopify:1004:S-4", **rotated)
    assert usps["subscribe"].call_count == 2
    assert json.loads(usps["subscribe"].calls[1].request.content)["secret"] == "n" * 32


async def test_a_refused_duplicate_is_taken_as_the_live_subscription(
    pushing: UspsCarrier,
    usps: respx.MockRouter,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    usps["subscribe"].respond(400, json=fixture("subscription_duplicate.json"))
    with caplog.at_level(logging.INFO):
        await pushing.carrier_buy_label(label_request())
        await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1005:S-5"))
    assert usps["subscribe"].call_count == 1
    assert SUBSCRIPTION_ID in caplog.text
    assert SECRET not in caplog.text


async def test_a_failed_subscription_never_fails_the_label_and_is_tried_again(
    pushing: UspsCarrier,
    usps: respx.MockRouter,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    usps["subscribe"].mock(
        side_effect=[
            httpx.Response(503, json=fixture("error_503.json")),
            httpx.Response(201, json=fixture("subscription_created.json")),
        ]
    )
    with caplog.at_level(logging.INFO):
        label = await pushing.carrier_buy_label(label_request())
        assert label.tracking_numbers == (TRACKING_NUMBER,)
        await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1006:S-6"))
    assert usps["subscribe"].call_count == 2
    assert "polling instead" in caplog.text and SECRET not in caplog.text


async def test_without_a_webhook_url_nothing_is_subscribed(
    usps: respx.MockRouter,  # noqa: F811
    runtime: PluginRuntime,  # noqa: F811
) -> None:
    subscribe = usps.post(SUBSCRIPTIONS_PATH).respond(201, json={})
    carrier = UspsCarrier(make_settings(), runtime)
    try:
        await carrier.carrier_buy_label(label_request())
    finally:
        await carrier.aclose()
    assert not subscribe.called


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"tracking_webhook_url": "http://hub.example.com/x"}, "https"),
        ({"tracking_webhook_secret": "short"}, "32 characters"),
        ({"tracking_webhook_email": "ops"}, "e-mail"),
        ({"tracking_webhook_secret": None}, "needs tracking_webhook_secret"),
        ({"tracking_webhook_email": None}, "needs tracking_webhook_secret"),
    ],
)
def test_webhook_settings_are_checked(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        make_settings(**{**PUSHING, **overrides})


def test_the_webhook_secret_stays_secret() -> None:
    settings = make_settings(**PUSHING)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


async def test_a_subscription_that_cannot_be_recorded_never_fails_the_label(
    pushing: UspsCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_: object, **__: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    label = await pushing.carrier_buy_label(label_request())
    assert label.tracking_numbers == (TRACKING_NUMBER,)


async def test_a_week_old_record_is_checked_by_subscribing_again(
    pushing: UspsCarrier,
    usps: respx.MockRouter,  # noqa: F811
    runtime: PluginRuntime,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """USPS deletes a subscription after 30 quiet days: a week-old record is checked again.
    A still-live subscription answers as a duplicate; a deleted one is made anew."""
    await pushing.carrier_buy_label(label_request())
    record = pushing.state_dir / SUBSCRIPTION_FILE
    stored = json.loads(record.read_text())

    def age(days: int) -> None:
        then = datetime.now(UTC) - timedelta(days=days)
        record.write_text(json.dumps(stored | {"checked_at": then.isoformat()}))

    age(6)
    await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1007:S-7"))
    assert usps["subscribe"].call_count == 1

    age(8)
    usps["subscribe"].respond(400, json=fixture("subscription_duplicate.json"))
    with caplog.at_level(logging.WARNING):
        await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1008:S-8"))
    assert usps["subscribe"].call_count == 2
    assert "already has tracking subscription" not in caplog.text  # it is the one we made
    assert datetime.fromisoformat(json.loads(record.read_text())["checked_at"]) > datetime.now(
        UTC
    ) - timedelta(minutes=1)

    age(8)
    usps["subscribe"].respond(201, json={"subscriptionId": "0000aaaa-0000-4000-8000-00000000beef"})
    await pushing.carrier_buy_label(label_request(idempotency_key="label:shopify:1009:S-9"))
    assert json.loads(record.read_text())["subscription_id"].endswith("beef")
