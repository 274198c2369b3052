"""Pure windowing and offset paging of getOrders (``GET /sell/fulfillment/v1/order``).

Reference: getOrders in ``sell_fulfillment_v1_oas3`` v1.20.0 (``filter`` criterion
``lastmodifieddate:[from..to]``, both ends inclusive, ISO 8601 UTC timestamps with
milliseconds; ``limit`` 1..200, default 50; zero-based ``offset``; error 30850 "Start and end
dates can't be in the future") and ``OrderSearchPagedCollection`` (``limit``, ``offset``,
``total``, ``next`` only when another page exists).

The hub asks for ``[updated_after, updated_before)``; eBay's window is closed, so its end is
one millisecond (eBay's resolution) before ``updated_before``, and never later than now.

The page token is ``"{offset}:{total}"``. Offset paging over a changing result can skip: an
order modified while the hub pages gets a ``lastModifiedDate`` after the window and leaves it,
and every later order moves one place up. The window lies in the past, so orders only leave
it; when the total has shrunk since the last page, the next page starts that many places
earlier. The few orders read twice keep their dedupe keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.domain.messages import FetchRequest
from hub.errors import PermanentError
from plugins.marketplaces.ebay import shapes
from plugins.marketplaces.ebay.mapping import iso_millis

MAX_LIMIT = 200
RESOLUTION = timedelta(milliseconds=1)
_TOKEN = re.compile(r"(\d{1,9}):(\d{1,9}|-)")


@dataclass(frozen=True)
class Window:
    first: datetime
    last: datetime
    """Both inclusive, as eBay reads them."""


@dataclass(frozen=True)
class Cursor:
    offset: int = 0
    total: int | None = None
    """The result's size when this cursor was made; None before the first page."""


def search_window(request: FetchRequest, now: datetime) -> Window | None:
    """eBay's closed window for the hub's half-open one; None if nothing can be in it yet."""
    first, before = _aware(request.updated_after), _aware(request.updated_before)
    last = min(before, _aware(now)) - RESOLUTION
    if last < first:
        return None
    return Window(first=first, last=last)


def _aware(moment: datetime) -> datetime:
    """Naive times are UTC, as everywhere in eBay's API."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def search_params(window: Window, cursor: Cursor, page_size: int) -> dict[str, str]:
    return {
        "filter": f"lastmodifieddate:[{iso_millis(window.first)}..{iso_millis(window.last)}]",
        "limit": str(min(page_size, MAX_LIMIT)),
        "offset": str(cursor.offset),
    }


def encode_token(cursor: Cursor) -> str:
    return f"{cursor.offset}:{'-' if cursor.total is None else cursor.total}"


def decode_token(token: str | None) -> Cursor:
    if token is None:
        return Cursor()
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise PermanentError(f"page_token: {token!r:.40} is not an eBay page token")
    total = match.group(2)
    return Cursor(offset=int(match.group(1)), total=None if total == "-" else int(total))


def resumed(cursor: Cursor, total: int | None) -> Cursor | None:
    """Where to read again when orders left the window since ``cursor`` was made."""
    if cursor.total is None or total is None or total >= cursor.total or cursor.offset == 0:
        return None
    return Cursor(offset=max(0, cursor.offset - (cursor.total - total)), total=total)


def read_page(body: Any) -> tuple[shapes.OrderPage, list[Mapping[str, Any]]]:
    """The paging fields and the raw orders of a getOrders answer."""
    if not isinstance(body, dict):
        raise PermanentError("getOrders: the answer is not a JSON object")
    orders = body.get("orders") or []
    if not isinstance(orders, list):
        raise PermanentError("getOrders: orders is not a list")
    for i, order in enumerate(orders):
        if not isinstance(order, dict):
            raise PermanentError(f"getOrders: orders[{i}] is not an object")
    try:
        page = shapes.OrderPage.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PermanentError(f"getOrders: {error['loc'][0]}: {error['msg']}") from None
    return page, orders


def next_cursor(page: shapes.OrderPage, cursor: Cursor, count: int) -> Cursor | None:
    """The cursor after a page of ``count`` orders read at ``cursor``, or None at the end."""
    if count == 0:
        return None
    after = cursor.offset + count
    more = bool(page.next) or (page.total is not None and after < page.total)
    return Cursor(offset=after, total=page.total) if more else None
