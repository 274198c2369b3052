"""Outbox notifier: once per notice key (also under concurrency), templates of every kind,
no personal data in logs or errors, and the hook through the host."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pluggy
import pytest

from hub import hookspecs
from hub.domain.address import Contact
from hub.domain.messages import CustomerNotice, NoticeKind, NoticeReceipt
from hub.errors import PermanentError
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.notifiers.outbox import OutboxNotifier, OutboxNotifierSettings
from plugins.notifiers.outbox.templates import render

EMAIL = "anna.lindqvist@example.com"
NAME = "Anna Lindqvist"
SHIPPED_FACTS = {
    "carrier": "sandbox",
    "tracking_number": "SBX0000123",
    "tracking_url": "https://track.example/SBX0000123",
    "eta": "2026-03-03T12:00:00+00:00",
}


def notice(
    kind: NoticeKind = NoticeKind.SHIPPED,
    *,
    key: str | None = None,
    order_key: str = "sandbox:1001",
    facts: dict[str, str] | None = None,
    email: str | None = EMAIL,
) -> CustomerNotice:
    return CustomerNotice(
        notice_key=key or f"{order_key}:{kind.value}",
        kind=kind,
        order_key=order_key,
        marketplace="sandbox",
        recipient=Contact(name=NAME, email=email),
        facts=SHIPPED_FACTS if facts is None else facts,
    )


def runtime(tmp_path: Path) -> PluginRuntime:
    return PluginRuntime(data_dir=tmp_path, config_dir=tmp_path)


@pytest.fixture
def notifier(tmp_path: Path) -> OutboxNotifier:
    return OutboxNotifier(OutboxNotifierSettings(shop_name="Nordic Basics"), runtime(tmp_path))


# --------------------------------------------------------------------------- idempotence


def test_first_call_queues_the_rendered_message(notifier: OutboxNotifier, tmp_path: Path):
    receipt = notifier.notify_customer(notice())
    assert (receipt.notifier, receipt.notice_key, receipt.duplicate) == (
        "outbox",
        "sandbox:1001:shipped",
        False,
    )
    (message,) = notifier.messages()
    assert message.status == "queued"
    assert message.recipient_email == EMAIL
    assert message.recipient_name == NAME
    assert message.subject == "Your order 1001 is on its way"
    assert "SBX0000123" in message.body
    assert (tmp_path / "notifiers" / "outbox" / "outbox.sqlite3").is_file()


def test_same_notice_key_twice_stores_one_message(notifier: OutboxNotifier):
    assert not notifier.notify_customer(notice()).duplicate
    again = notifier.notify_customer(notice(facts={"carrier": "changed"}))
    assert again.duplicate
    (message,) = notifier.messages()
    assert "SBX0000123" in message.body  # the first rendering stands
    assert notifier.count() == 1


def test_the_outbox_outlives_the_plugin_object(tmp_path: Path):
    OutboxNotifier(OutboxNotifierSettings(), runtime(tmp_path)).notify_customer(notice())
    reopened = OutboxNotifier(OutboxNotifierSettings(), runtime(tmp_path))
    assert reopened.notify_customer(notice()).duplicate
    assert reopened.count() == 1


def test_messages_by_order_and_count_by_kind(notifier: OutboxNotifier):
    notifier.notify_customer(notice())
    notifier.notify_customer(notice(NoticeKind.DELIVERED, facts={}))
    notifier.notify_customer(notice(order_key="sandbox:1002"))
    assert [m.kind for m in notifier.messages("sandbox:1001")] == [
        NoticeKind.SHIPPED,
        NoticeKind.DELIVERED,
    ]
    assert [m.order_key for m in notifier.messages()] == [
        "sandbox:1001",
        "sandbox:1001",
        "sandbox:1002",
    ]
    assert notifier.messages("sandbox:404") == []
    assert notifier.count() == 3
    assert notifier.count(NoticeKind.SHIPPED) == 2
    assert notifier.count(NoticeKind.CANCELLED) == 0


def race(plugins: list[OutboxNotifier], key: str) -> list[NoticeReceipt]:
    """Each plugin sends the same notice from its own thread, released at the same moment."""
    start = threading.Barrier(len(plugins))
    receipts: list[NoticeReceipt] = []

    def send(plugin: OutboxNotifier) -> None:
        start.wait()
        receipts.append(plugin.notify_customer(notice(key=key)))

    threads = [threading.Thread(target=send, args=(p,)) for p in plugins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return receipts


def test_two_threads_with_the_same_key_store_one_row(tmp_path: Path):
    # Two plugin objects on one file stand in for two worker processes.
    plugins = [OutboxNotifier(OutboxNotifierSettings(), runtime(tmp_path)) for _ in range(2)]
    for round_ in range(20):  # many rounds: a race would show up in some of them
        receipts = race(plugins, f"sandbox:1001:shipped:{round_}")
        assert sorted(r.duplicate for r in receipts) == [False, True]
    assert plugins[0].count() == 20


def test_one_plugin_in_many_threads_stores_one_row(notifier: OutboxNotifier):
    # The host's own case: hooks run in asyncio.to_thread workers sharing one plugin object.
    receipts = race([notifier] * 8, "sandbox:1001:delivered")
    assert sorted(r.duplicate for r in receipts) == [False] + [True] * 7
    assert notifier.count() == 1


# --------------------------------------------------------------------------- personal data


def test_a_notice_without_email_is_a_permanent_error_and_stores_nothing(notifier):
    for email in (None, "", "   "):
        with pytest.raises(PermanentError, match="no email address") as raised:
            notifier.notify_customer(notice(email=email))
        assert NAME not in str(raised.value)
    assert notifier.count() == 0


def test_logs_never_hold_the_recipient(notifier: OutboxNotifier, caplog):
    with caplog.at_level(logging.DEBUG):
        notifier.notify_customer(notice())
        notifier.notify_customer(notice())
    assert "sandbox:1001:shipped" in caplog.text
    assert EMAIL not in caplog.text
    assert "Anna" not in caplog.text


def test_a_stored_message_does_not_print_its_recipient_or_body(notifier: OutboxNotifier):
    notifier.notify_customer(notice())
    (message,) = notifier.messages()
    assert EMAIL not in repr(message)
    assert "Anna" not in repr(message)


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_with_and_without_facts(kind: NoticeKind):
    everything = {
        **SHIPPED_FACTS,
        "reason": "the street number is missing",
        "description": "Held at depot & rerouted",
        "status": "in_transit",
        "parcel": "2 of 3",
    }
    for facts in (everything, {}):
        rendered = render(notice(kind, facts=facts), "Nordic Basics")
        assert "1001" in rendered.subject
        assert "\n" not in rendered.subject
        assert rendered.body.startswith(f"Hello {NAME},\n\n")
        assert rendered.body.endswith("Thank you for shopping with us.\nNordic Basics\n")
        assert "\n\n\n" not in rendered.body
        assert "{{" not in rendered.body


def test_a_parcel_of_several_says_which_one_it_is():
    facts = {**SHIPPED_FACTS, "parcel": "2 of 3"}
    delivered = render(notice(NoticeKind.DELIVERED, facts=facts))
    assert delivered.subject == "Parcel 2 of 3 of your order 1001 has been delivered"
    assert "Parcel 2 of 3 of your order 1001 has been delivered." in delivered.body
    out = render(notice(NoticeKind.OUT_FOR_DELIVERY, facts=facts)).body
    assert "Parcel 2 of 3 of this shipment.\nTracking number: SBX0000123" in out
    single = render(notice(NoticeKind.DELIVERED, facts=SHIPPED_FACTS))
    assert single.subject == "Your order 1001 has been delivered"


def test_shipped_names_carrier_tracking_and_a_readable_eta():
    body = render(notice(NoticeKind.SHIPPED)).body
    assert "left our warehouse with sandbox." in body
    assert "Tracking number: SBX0000123 (sandbox)" in body
    assert "Follow your parcel: https://track.example/SBX0000123" in body
    assert "Expected delivery: Tuesday 3 March 2026." in body
    assert body.endswith("Thank you for shopping with us.\n")  # no shop name configured


def test_carrier_name_is_preferred_to_the_plugin_key():
    facts = {**SHIPPED_FACTS, "carrier": "ups", "carrier_name": "UPS"}
    assert "left our warehouse with UPS." in render(notice(facts=facts)).body


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        (
            NoticeKind.ORDER_ON_HOLD,
            {"reason": "the street number is missing"},
            "We have paused your order 1001 because the street number is missing.",
        ),
        (
            NoticeKind.CANCELLED,
            {"reason": "out of stock"},
            "Your order 1001 has been cancelled: out of stock.",
        ),
        (
            NoticeKind.DELAYED,
            {"eta": "2026-03-05T09:00:00+01:00", "description": "Weather delay"},
            "Latest news from the carrier: Weather delay\nNew expected delivery: "
            "Thursday 5 March 2026.",
        ),
        (
            NoticeKind.DELIVERY_FAILED,
            {"description": "Nobody at home", "tracking_number": "SBX9"},
            "What they told us: Nobody at home",
        ),
        (
            NoticeKind.OUT_FOR_DELIVERY,
            {"tracking_number": "SBX9"},
            "out for delivery today.\n\nTracking number: SBX9",
        ),
        (NoticeKind.DELIVERED, {}, "Your order 1001 has been delivered."),
        (NoticeKind.REVIEW_INVITATION, {}, "How did we do?"),
    ],
)
def test_each_kind_says_what_happened(kind: NoticeKind, facts: dict[str, str], expected: str):
    assert expected in render(notice(kind, facts=facts)).body


def test_text_is_not_html_escaped_and_odd_etas_pass_through():
    facts = {"description": "Held at depot & rerouted <B>", "eta": "early next week"}
    body = render(notice(NoticeKind.DELAYED, facts=facts)).body
    assert "Held at depot & rerouted <B>" in body
    assert "New expected delivery: early next week." in body


# --------------------------------------------------------------------------- through the host


async def test_notify_through_the_plugin_host(tmp_path: Path):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugin = OutboxNotifier(OutboxNotifierSettings(), runtime(tmp_path))
    pm.register(plugin, name="notifiers.outbox")
    host = PluginHost(pm, {"notifiers.outbox": plugin})
    (first,) = await host.notify(notice())
    (second,) = await host.notify(notice())
    assert (first.duplicate, second.duplicate) == (False, True)
    assert plugin.count(NoticeKind.SHIPPED) == 1
