"""Which inserts go into an order's parcel, and why in words. Pure: settings and request in,
inserts out, in a fixed order (the packer's order)."""

from __future__ import annotations

from decimal import Decimal

from hub.domain.messages import Insert, InsertRequest
from plugins.inserts.standard.settings import Card, StandardInsertsSettings


def inserts_for(request: InsertRequest, settings: StandardInsertsSettings) -> list[Insert]:
    reasons: list[tuple[Card, str | None]] = [
        (settings.thank_you, "every order gets one"),
        (settings.return_guide, _return_guide(request, settings)),
        (settings.gift_note, "order marked as a gift" if request.is_gift else None),
        (settings.coupon, _coupon(request, settings)),
        (settings.season_flyer, _season_flyer(request, settings)),
    ]
    return [
        Insert(
            insert_id=card.insert_id,
            name=card.name,
            weight_grams=card.weight_grams,
            reason=reason,
        )
        for card, reason in reasons
        if card.enabled and reason is not None
    ]


def _return_guide(request: InsertRequest, settings: StandardInsertsSettings) -> str | None:
    countries = settings.return_guide.countries
    if countries == "all":
        return "return guide goes to every destination"
    if request.destination_country.upper() in countries:
        return f"destination {request.destination_country.upper()} gets a return guide"
    return None


def _coupon(request: InsertRequest, settings: StandardInsertsSettings) -> str | None:
    total = request.order_total
    threshold = settings.coupon.thresholds.get(total.currency)
    if threshold is None or total.amount < threshold:
        return None
    return f"order total {total} reaches {_plain(threshold)} {total.currency}"


def _season_flyer(request: InsertRequest, settings: StandardInsertsSettings) -> str | None:
    wanted = settings.season_flyer.tag.strip().casefold()
    if any(tag.strip().casefold() == wanted for tag in request.tags):
        return f"order tagged {settings.season_flyer.tag!r}"
    return None


def _plain(amount: Decimal) -> str:
    """100 -> "100", 99.50 -> "99.50": thresholds as people write them."""
    return f"{amount:f}" if amount != amount.to_integral_value() else f"{amount.normalize():f}"
