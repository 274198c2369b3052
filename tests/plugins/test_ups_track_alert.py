"""UPS Track Alert: pushed tracking events (the spec's own examples, UPSTrackAlert.yaml) and
the subscription made after each label."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain.messages import WebhookRequest
from hub.domain.tracking import TrackingStatus
from hub.errors import InvalidSignatureError, PermanentError
from hub.plugin import PluginRuntime
from plugins.carriers.ups import UpsCarrier
from plugins.carriers.ups.track_alert import parse_track_alert
from tests.plugins.test_ups import BOX, SHIP, api, label_req, load, ups_settings  # noqa: F401

EVENTS = json.loads(
    (Path(__file__).parent / "fixtures" / "ups" / "track_alert_events.json").read_text()
)
CREDENTIAL = "c0ffee-opaque-credential"
HOOK_URL = "https://hub.example.com/webhooks/carriers/ups"


def push(payload: Any, credential: str | None = CREDENTIAL) -> WebhookRequest:
    headers = {"content-type": "application/json", "user-agent": "UPSPubSubTrackingService"}
    if credential is not None:
        headers["credential"] = credential
    return WebhookRequest(
        plugin="carriers.ups",
        headers=headers,
        body=json.dumps(payload).encode(),
        received_at=datetime(2024, 4, 23, 14, 0, tzinfo=UTC),
    )


@pytest.fixture
async def alerting(tmp_path):
    plugin = UpsCarrier(
        ups_settings(track_alert_url=HOOK_URL, track_alert_credential=CREDENTIAL),
        PluginRuntime(data_dir=tmp_path, config_dir=tmp_path),
    )
    yield plugin
    await plugin.aclose()


@pytest.mark.parametrize(
    ("example", "status", "code", "location"),
    [
        ("manifest", TrackingStatus.PRE_TRANSIT, "MP", "US"),
        ("on_the_way", TrackingStatus.IN_TRANSIT, "DP", "Hickory, NC, US"),
        ("out_for_delivery", TrackingStatus.OUT_FOR_DELIVERY, "OT", "Charlotte, NC, US"),
        ("delivered", TrackingStatus.DELIVERED, "FS", "CHARLOTTE, NC, US"),
    ],
)
async def test_documented_pushes_map_to_events(alerting, example, status, code, location):
    update = await alerting.carrier_parse_tracking_webhook(push(EVENTS[example]))
    (event,) = update.events
    assert (event.status, event.carrier_code, event.location) == (status, code, location)
    assert event.tracking_number == EVENTS[example]["trackingNumber"].strip()
    assert event.occurred_at.tzinfo is not None


async def test_gmt_time_is_the_event_time_and_the_schedule_the_estimate(alerting):
    (event,) = (await alerting.carrier_parse_tracking_webhook(push(EVENTS["on_the_way"]))).events
    assert event.occurred_at == datetime(2024, 4, 23, 2, 54, tzinfo=UTC)
    assert event.estimated_delivery == datetime(2024, 4, 23, 23, 59, 59, tzinfo=UTC)


async def test_wrong_missing_or_unconfigured_credential_is_refused(alerting, tmp_path):
    with pytest.raises(InvalidSignatureError):
        await alerting.carrier_parse_tracking_webhook(push(EVENTS["delivered"], "guess"))
    with pytest.raises(InvalidSignatureError):
        await alerting.carrier_parse_tracking_webhook(push(EVENTS["delivered"], None))
    unconfigured = UpsCarrier(ups_settings(), PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    try:
        with pytest.raises(InvalidSignatureError):
            await unconfigured.carrier_parse_tracking_webhook(push(EVENTS["delivered"]))
    finally:
        await unconfigured.aclose()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        json.dumps({"trackingNumber": "1Z1", "activityStatus": {}}).encode(),
    ],
)
def test_malformed_pushes_are_permanent_errors(body):
    with pytest.raises(PermanentError):
        parse_track_alert(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    example=st.sampled_from(sorted(EVENTS)),
    field=st.sampled_from(
        [
            "trackingNumber",
            "activityStatus",
            "gmtActivityDate",
            "gmtActivityTime",
            "localActivityDate",
            "scheduledDeliveryDate",
            "activityLocation",
            "actualDeliveryDate",
        ]
    ),
    value=JSON,
)
def test_any_mutated_push_is_an_event_or_a_clear_error(example, field, value):
    payload = {**EVENTS[example], field: value}
    try:
        event = parse_track_alert(json.dumps(payload).encode())
    except PermanentError as exc:
        assert str(exc).startswith("UPS Track Alert:")
    else:
        assert event.tracking_number and event.occurred_at.tzinfo is not None


async def test_new_labels_are_subscribed_and_a_failed_subscription_only_logs(api, alerting):  # noqa: F811
    api.post(SHIP).respond(200, json=load("ship_gif_two_packages.json"))
    subscribe = api.post("/api/track/v1/subscription/standard/package").mock(
        side_effect=[
            httpx.Response(
                200, json={"validTrackingNumbers": ["1Z2220060290602143", "1Z2220060291994175"]}
            ),
            httpx.Response(
                500, json={"response": {"errors": [{"code": "VSS100", "message": "down"}]}}
            ),
        ]
    )
    label = await alerting.carrier_buy_label(label_req())
    body = json.loads(subscribe.calls[0].request.content)
    assert body["trackingNumberList"] == list(label.tracking_numbers)
    assert body["destination"] == {
        "url": HOOK_URL,
        "credentialType": "Bearer",
        "credential": CREDENTIAL,
    }

    again = await alerting.carrier_buy_label(label_req(idempotency_key="label:other:S-2"))
    assert again.tracking_numbers and subscribe.call_count == 2  # bought despite the failure
