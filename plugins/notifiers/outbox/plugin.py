"""The outbox notifier: renders each customer notice once and queues it in a SQLite outbox.

A sender (SMTP, an email API) drains the outbox separately, so a notice is never lost to a
mail server being down and never sent twice because an activity was retried. The hook is a
plain function: the host runs it in a worker thread, and each call opens its own connection.
Logs name the notice key, kind and order, never the recipient or the message text.
"""

from __future__ import annotations

import logging

from hub.domain.messages import CustomerNotice, NoticeKind, NoticeReceipt
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.notifiers.outbox.settings import OutboxNotifierSettings
from plugins.notifiers.outbox.store import Outbox, OutboxMessage
from plugins.notifiers.outbox.templates import render

log = logging.getLogger(__name__)

DATABASE = "outbox.sqlite3"


class OutboxNotifier(HubPlugin[OutboxNotifierSettings]):
    """Customer emails rendered from templates and queued once per notice key."""

    family = Family.NOTIFIERS
    name = "outbox"
    settings_model = OutboxNotifierSettings

    def __init__(self, settings: OutboxNotifierSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.outbox = Outbox(self.state_dir / DATABASE, busy_timeout_ms=settings.busy_timeout_ms)

    @hookimpl
    def notify_customer(self, notice: CustomerNotice) -> NoticeReceipt:
        email = (notice.recipient.email or "").strip()
        if "@" not in email:
            # Retrying cannot conjure an address; the message says which notice, not whose.
            raise PermanentError(f"notice {notice.notice_key}: the customer has no email address")
        rendered = render(notice, self.settings.shop_name)
        stored = self.outbox.add(
            OutboxMessage(
                notice_key=notice.notice_key,
                kind=notice.kind,
                order_key=notice.order_key,
                marketplace=notice.marketplace,
                recipient_email=email,
                recipient_name=notice.recipient.name,
                subject=rendered.subject,
                body=rendered.body,
            )
        )
        log.info(
            "notice %s (%s, order %s) %s",
            notice.notice_key,
            notice.kind.value,
            notice.order_key,
            "queued" if stored else "already queued: duplicate",
        )
        return NoticeReceipt(notifier=self.name, notice_key=notice.notice_key, duplicate=not stored)

    # ----------------------------------------------------------------- for the CLI and tests

    def messages(self, order_key: str | None = None) -> list[OutboxMessage]:
        """Stored messages, oldest first; only one order's if ``order_key`` is given."""
        return self.outbox.messages(order_key)

    def count(self, kind: NoticeKind | None = None) -> int:
        """How many messages are stored, of one kind if given."""
        return self.outbox.count(kind)
