"""Outbox notifier: customer notices rendered once and queued in SQLite, once per notice key."""

from plugins.notifiers.outbox.plugin import OutboxNotifier
from plugins.notifiers.outbox.settings import OutboxNotifierSettings
from plugins.notifiers.outbox.store import OutboxMessage

__all__ = ["OutboxMessage", "OutboxNotifier", "OutboxNotifierSettings"]
