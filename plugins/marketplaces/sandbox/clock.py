"""Timestamps as the channel writes them: ISO-8601, whole seconds, with an offset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def channel_time(moment: datetime) -> str:
    """How the channel writes a moment (seconds precision, like Shopify)."""
    return aware(moment).astimezone(UTC).isoformat(timespec="seconds")


def aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the hub's convention for windows)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Sortable integer position of a moment, for the store's index."""
    return (aware(moment) - _EPOCH) // _MICROSECOND


def next_update(previous: str, now: datetime) -> str:
    """The ``updated_at`` of a change: now, but always after the previous value, so every
    change is a new (id, updated_at) pair for pollers and dedupe keys."""
    floor = datetime.fromisoformat(previous) + timedelta(seconds=1)
    return channel_time(max(aware(now), floor))
