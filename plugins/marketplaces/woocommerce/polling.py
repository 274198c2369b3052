"""Pure pieces of polling: the orders query for a window, and the page token.

Request (WooCommerce REST API docs, wp-api-v3 "List all orders", and the collection parameters
of ``WC_REST_CRUD_Controller`` / ``WC_REST_Orders_Controller`` in github.com/woocommerce/
woocommerce): ``GET /wp-json/wc/v3/orders?modified_after=&modified_before=&dates_are_gmt=true
&orderby=modified&order=asc&per_page=&page=1&exclude=``; the answer is a JSON array of orders with
``X-WP-Total`` and ``X-WP-TotalPages`` headers ("Pagination").

Both date bounds are exclusive (a WordPress ``date_query``) and WooCommerce keeps whole seconds, so
``[after, before)`` becomes ``modified_after = floor(after) - 1 s`` and ``modified_before =
ceil(before)``.

Pages are walked by keyset, not by page number: an order modified while the hub pages through
leaves its place in the ``orderby=modified`` list, and with ``page=N`` every later order would move
up one place and be skipped. The token is therefore "the orders after this second, minus the ids
already seen at it" (``exclude``), plus the window it belongs to; ``X-WP-TotalPages`` says whether
there is more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.errors import PermanentError

ORDERS_PATH = "/orders"
_WC_TIME = "%Y-%m-%dT%H:%M:%S"
_CURSOR_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Cursor:
    """Continue from orders modified at ``second`` or later, except ``seen`` (ids at it)."""

    second: datetime
    seen: tuple[str, ...] = ()


def orders_query(
    after: datetime, before: datetime, cursor: Cursor | None, per_page: int
) -> dict[str, str]:
    start = cursor.second if cursor else _floor(after)
    params = {
        "modified_after": (start - timedelta(seconds=1)).strftime(_WC_TIME),
        "modified_before": _ceil(before).strftime(_WC_TIME),
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": str(per_page),
        "page": "1",
    }
    if cursor and cursor.seen:
        # Comma-separated: WordPress reads list parameters with wp_parse_list; a repeated
        # ``exclude=`` would keep only the last value in PHP.
        params["exclude"] = ",".join(cursor.seen)
    return params


def next_cursor(
    previous: Cursor | None, page: Iterable[tuple[str, datetime | None]]
) -> Cursor | None:
    """Where the next page starts, from this page's (id, date_modified_gmt) pairs."""
    dated = [(order_id, when) for order_id, when in page if when is not None]
    if not dated:
        return None
    last = max(_floor(when) for _, when in dated)
    seen = [order_id for order_id, when in dated if _floor(when) == last]
    if previous is not None and previous.second == last:
        seen = [*previous.seen, *(i for i in seen if i not in previous.seen)]
    return Cursor(second=last, seen=tuple(seen))


def has_more(headers: Mapping[str, str], returned: int, per_page: int) -> bool:
    """``X-WP-TotalPages`` counts the pages from this query's first: more than one means more.
    Without the header (a proxy stripped it), a full page means there may be more."""
    if returned == 0:
        return False
    pages = headers.get("x-wp-totalpages", "").strip()
    if pages.isdigit():
        return int(pages) > 1
    return returned >= per_page


# --------------------------------------------------------------------------- the token


def window_tag(after: datetime, before: datetime) -> str:
    return f"{_stamp(after)}/{_stamp(before)}"


def encode_token(cursor: Cursor, after: datetime, before: datetime) -> str:
    """``<second>|<seen ids>|<window>``: readable in logs, checked against the window."""
    return f"{cursor.second.strftime(_CURSOR_TIME)}|{','.join(cursor.seen)}|" + window_tag(
        after, before
    )


def decode_token(token: str, after: datetime, before: datetime) -> Cursor:
    parts = token.split("|")
    if len(parts) != 3:
        raise PermanentError(f"page token {token[:80]!r} is not a WooCommerce page token")
    second, seen, window = parts
    if window != window_tag(after, before):
        raise PermanentError("page token belongs to another fetch window")
    try:
        when = datetime.strptime(second, _CURSOR_TIME).replace(tzinfo=UTC)
    except ValueError:
        raise PermanentError(f"page token: {second[:40]!r} is not a time") from None
    ids = tuple(i for i in seen.split(",") if i)
    if not all(re.fullmatch(r"[0-9]{1,20}", i) for i in ids):
        raise PermanentError("page token: the seen ids are not order ids")
    return Cursor(second=when, seen=ids)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _floor(moment: datetime) -> datetime:
    return _utc(moment).replace(microsecond=0)


def _ceil(moment: datetime) -> datetime:
    moment = _utc(moment)
    return _floor(moment) + timedelta(seconds=math.ceil(moment.microsecond / 1_000_000))


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
