"""Opaque page tokens for ``marketplace_fetch_orders``: the (updated_at, id) of the last order
handed out. Keyset paging rather than offsets: an order that changes between two pages moves
to a later position (a new version, with a new dedupe key), so no other order shifts into
the gap and gets skipped."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from hub.errors import PermanentError

_VERSION = "v1"


@dataclass(frozen=True, order=True)
class Position:
    updated_us: int
    order_id: int


def encode(position: Position) -> str:
    raw = f"{_VERSION}:{position.updated_us}:{position.order_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        version, updated_us, order_id = raw.split(":")
        if version != _VERSION:
            raise ValueError(version)
        return Position(int(updated_us), int(order_id))
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise PermanentError("page_token: not a token this channel issued") from None
