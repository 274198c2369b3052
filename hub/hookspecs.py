"""The plugin contracts: one family of hooks per kind of adapter, in order-lifecycle order.

Every adapter is a plugin object registered under the name ``"<family>.<name>"`` (the entry-point
name in the ``hub.plugins`` group and the section in ``config/hub.toml``). The hub calls hooks one
plugin at a time through :class:`hub.host.PluginHost`, so each hook answers for its own plugin only.
Hooks may be plain or ``async`` functions. Hooks marked *firstresult* stop at the first non-None
result. Raise :mod:`hub.errors` exceptions to say whether a failure is worth retrying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeVar

import pluggy

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from hub.domain.messages import (
        ChannelEvent,
        ConfirmationReceipt,
        CustomerNotice,
        FetchRequest,
        Insert,
        InsertRequest,
        ItemSpec,
        LabelLookup,
        LabelRequest,
        NoticeReceipt,
        OrderPage,
        PackagingOption,
        PackagingRequest,
        PackConfirmation,
        PackResult,
        PickList,
        PickListRequest,
        PickResult,
        PurchasedLabel,
        Quote,
        RateRequest,
        ReleaseRequest,
        ReleaseResult,
        Reservation,
        ReservationRequest,
        ShipmentConfirmation,
        TrackingUpdate,
        TrackRequest,
        VoidRequest,
        VoidResult,
        WebhookRequest,
    )

    T = TypeVar("T")
    MaybeAwaitable: TypeAlias = T | Awaitable[T]

PROJECT = "hub"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorate plugin methods with this to implement a hook."""


# =========================================================================== marketplaces
# Intake: webhook (a hint) and polling (the truth); push-back of shipments.


@hookspec(firstresult=True)
def marketplace_verify_webhook(request: WebhookRequest) -> MaybeAwaitable[bool]:
    """Check the webhook's signature over the raw body in constant time.

    Return True only for an authentic delivery. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def marketplace_parse_webhook(request: WebhookRequest) -> MaybeAwaitable[list[ChannelEvent]]:
    """Turn a verified webhook into channel events (order upserted, cancelled...).

    A payload that cannot become an Order yields an event carrying a ``MappingProblem``;
    a malformed body raises ``PermanentError`` with a message naming the field.
    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def marketplace_fetch_orders(request: FetchRequest) -> MaybeAwaitable[OrderPage]:
    """Return one page of orders changed in the request's time window.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def marketplace_confirm_shipment(
    confirmation: ShipmentConfirmation,
) -> MaybeAwaitable[ConfirmationReceipt]:
    """Tell the channel a shipment left, with its tracking number. Must be idempotent per
    ``shipment_id``: a repeat answers ``already_confirmed=True``. A confirmation with ``replaces``
    is a reship of lines the channel already counts as shipped: update that fulfilment's
    tracking if the channel can, else raise ``PermanentError`` saying so (a person updates it and
    runs ``hub orders mark-confirmed``). Stops at first non-None result.
    """


@hookspec(firstresult=True)
def marketplace_simulate_orders(count: int) -> MaybeAwaitable[list[WebhookRequest]]:
    """Sandbox channels only: place ``count`` new orders and return the webhook deliveries the
    channel would send for them, so demos exercise the real intake path.
    Stops at first non-None result.
    """


# =========================================================================== warehouses
# Stock check, reservation, picking and packing.


@hookspec(firstresult=True)
def warehouse_item_specs(skus: list[str]) -> MaybeAwaitable[list[ItemSpec]]:
    """Describe the SKUs this warehouse system knows; unknown SKUs are simply absent.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def warehouse_reserve(request: ReservationRequest) -> MaybeAwaitable[Reservation]:
    """Reserve stock for every line, all or nothing, allocating across warehouses.

    Idempotent per ``reservation_key``; never oversells, even under concurrent callers.
    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def warehouse_release(request: ReleaseRequest) -> MaybeAwaitable[ReleaseResult]:
    """Give back stock under the request's reservation key and say how many units moved.

    Without ``lines``: release every unpicked unit and put the picked units of shipments not
    in ``kept_shipments`` back on the shelf; a repeat moves nothing. With ``lines``: release
    exactly those unpicked units, once per ``release_id``, so the shipment is then due only
    what was picked. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def warehouse_pick_list(request: PickListRequest) -> MaybeAwaitable[PickList]:
    """Create (or return the existing) pick list for a shipment's pick attempt, in walking
    order; a later attempt lists only the units still missing. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def warehouse_confirm_pick(pick_list: PickList) -> MaybeAwaitable[PickResult]:
    """Report what was picked, checked by scan, cumulative over attempts; once per attempt.

    Raise ``NotReadyError`` while pickers work. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def warehouse_confirm_pack(confirmation: PackConfirmation) -> MaybeAwaitable[PackResult]:
    """Verify the parcels against what was picked and is still due for the shipment, and
    record them. Stops at first non-None result.
    """


# =========================================================================== packing


@hookspec(firstresult=True)
def packaging_options(request: PackagingRequest) -> MaybeAwaitable[list[PackagingOption]]:
    """Offer ways to pack a shipment (box, materials, CO2e). Stops at first non-None result."""


@hookspec(firstresult=True)
def inserts_for_order(request: InsertRequest) -> MaybeAwaitable[list[Insert]]:
    """Say what goes in the parcel for this order (cards, coupons), by this plugin's rules.

    Stops at first non-None result.
    """


# =========================================================================== carriers


@hookspec(firstresult=True)
def carrier_quote(request: RateRequest) -> MaybeAwaitable[list[Quote]]:
    """Rate the shipment for each service this carrier offers. Stops at first non-None result."""


@hookspec(firstresult=True)
def carrier_buy_label(request: LabelRequest) -> MaybeAwaitable[PurchasedLabel]:
    """Buy one label. Pass ``idempotency_key`` to carriers that honour one; raise
    ``AmbiguousOutcomeError`` if the request may have been accepted (never retry it yourself).
    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def carrier_find_label(lookup: LabelLookup) -> MaybeAwaitable[PurchasedLabel | None]:
    """Find a label already bought under this idempotency key or shipment reference, if the
    carrier's API allows; raise ``PermanentError`` if it cannot look labels up.
    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def carrier_void_label(request: VoidRequest) -> MaybeAwaitable[VoidResult]:
    """Void an unused label. Idempotent. Stops at first non-None result."""


@hookspec(firstresult=True)
def carrier_track(request: TrackRequest) -> MaybeAwaitable[TrackingUpdate]:
    """Return the tracking events known for a tracking number. Stops at first non-None result."""


@hookspec(firstresult=True)
def carrier_parse_tracking_webhook(request: WebhookRequest) -> MaybeAwaitable[TrackingUpdate]:
    """Verify and parse a carrier's tracking push. Stops at first non-None result."""


# =========================================================================== notifiers


@hookspec(firstresult=True)
def notify_customer(notice: CustomerNotice) -> MaybeAwaitable[NoticeReceipt]:
    """Tell the customer about an event, once per ``notice_key``. Stops at first non-None result."""
