"""Quotes without a rating endpoint (pure).

Parcel DE Shipping has no rating call, so a quote is two things put together:
1. the price from the account's own price list (``[carriers.dhl] prices``), and
2. DHL's own verdict that the product can carry these parcels to this address: each candidate
   product (and, if GoGreen Plus is offered, its ``goGreenPlus`` variant) is sent through the
   dry run ``POST /orders?validate=true`` ("If this succeeds, actual shipment creation will also
   succeed", OpenAPI 2.1.13), one shipment per parcel, up to 30 per call.
A product is quoted only if every one of its parcels passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.customs import needs_customs
from hub.domain.messages import Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat, Parcel
from hub.errors import PermanentError
from plugins.carriers.dhl import mapping
from plugins.carriers.dhl.products import PRODUCTS, Product, serves
from plugins.carriers.dhl.responses import Outcome
from plugins.carriers.dhl.settings import DhlSettings, PriceRule

CARRIER = "dhl"
CENT = Decimal("0.01")


def rule_for(
    settings: DhlSettings, product: str, destination: str, weight_grams: int
) -> PriceRule | None:
    """The matching line with the smallest weight band (first in the list on a tie)."""
    matching = [
        rule
        for rule in settings.prices
        if rule.product == product
        and weight_grams <= rule.max_weight_grams
        and (not rule.destinations or destination in rule.destinations)
    ]
    return min(matching, key=lambda rule: rule.max_weight_grams, default=None)


@dataclass(frozen=True)
class Candidate:
    product: Product
    rules: tuple[PriceRule, ...]
    """One per parcel, in parcel order."""

    @property
    def price(self) -> Decimal:
        return sum((rule.price for rule in self.rules), Decimal(0))

    @property
    def transit_days(self) -> int | None:
        days = [rule.transit_days for rule in self.rules]
        return None if any(d is None for d in days) else max(d for d in days if d is not None)


def candidates(request: RateRequest, settings: DhlSettings) -> list[Candidate]:
    """Products in price-list order that serve the route and have a price for every parcel."""
    origin, destination = request.ship_from.country, request.ship_to.country
    found: list[Candidate] = []
    for code in dict.fromkeys(rule.product for rule in settings.prices):
        product = PRODUCTS[code]
        if not serves(product, origin, destination):
            continue
        rules = [rule_for(settings, code, destination, p.weight_grams) for p in request.parcels]
        if all(rule is not None for rule in rules):
            found.append(Candidate(product, tuple(r for r in rules if r is not None)))
    return found


def label_price(
    product: Product, destination: str, parcels: tuple[Parcel, ...], settings: DhlSettings
) -> Money:
    """What a label costs by the price list; a label the list cannot price is not bought."""
    total = Decimal(0)
    for index, parcel in enumerate(parcels):
        rule = rule_for(settings, product.code, destination, parcel.weight_grams)
        if rule is None:
            raise PermanentError(
                f"service_code: no price line for {product.code} to {destination} at "
                f"{parcel.weight_grams} g (parcels.{index}) in [carriers.dhl] prices"
            )
        total += rule.price
    return Money(amount=total, currency=settings.currency)


# --------------------------------------------------------------------------- dry runs


@dataclass(frozen=True)
class DryRun:
    product: str
    eco: bool
    parcel_index: int


def dry_runs(
    request: RateRequest, found: list[Candidate], settings: DhlSettings, day: str
) -> list[tuple[DryRun, dict[str, Any]]]:
    """The shipments to validate, each with what it stands for."""
    count = len(request.parcels)
    share = (request.declared_value.amount / count).quantize(CENT, rounding=ROUND_HALF_UP)
    value = Money(amount=share, currency=request.declared_value.currency)
    declare = needs_customs(request.ship_from.country, request.ship_to.country)
    runs: list[tuple[DryRun, dict[str, Any]]] = []
    for candidate in found:
        variants = (False, True) if settings.gogreen_plus else (False,)
        for eco in variants:
            for index, parcel in enumerate(request.parcels):
                body = mapping.shipment_body(
                    product=candidate.product,
                    parcel=parcel,
                    parcel_field=f"parcels.{index}",
                    ship_from=request.ship_from,
                    ship_to=request.ship_to,
                    contact=None,
                    settings=settings,
                    day=day,
                    customs=mapping.quote_customs(parcel, value, settings) if declare else None,
                    services={"goGreenPlus": True} if eco else None,
                )
                runs.append((DryRun(candidate.product.code, eco, index), body))
    return runs


def estimated_delivery(ship_day: date, transit_days: int | None, zone: ZoneInfo) -> datetime | None:
    """The configured transit time after DHL's ``shipDate``, by the evening (18:00 local)."""
    if transit_days is None:
        return None
    day = ship_day
    left = transit_days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() != 6:  # no parcel deliveries on Sundays
            left -= 1
    return datetime(day.year, day.month, day.day, 18, tzinfo=zone)


def quotes(
    request: RateRequest,
    found: list[Candidate],
    results: list[tuple[DryRun, Outcome]],
    settings: DhlSettings,
    ship_day: date,
    label_formats: tuple[LabelFormat, ...],
) -> list[Quote]:
    """Quotes for the products whose every parcel passed the dry run, labelled in
    `label_formats`; if none passed, DHL's reasons (naming the properties) as a
    PermanentError."""
    passed: dict[tuple[str, bool], bool] = {}
    reasons: dict[str, list[str]] = {}
    for run, outcome in results:
        key = (run.product, run.eco)
        passed[key] = passed.get(key, True) and outcome.ok
        if not outcome.ok and not run.eco:
            where = f"parcels.{run.parcel_index}" if len(request.parcels) > 1 else ""
            reasons.setdefault(run.product, []).extend(
                f"{where} {message}".strip() for message in outcome.messages
            )
    result = []
    for candidate in found:
        code = candidate.product.code
        if not passed.get((code, False), False):
            continue
        result.append(
            Quote(
                carrier=CARRIER,
                service_code=code,
                service_name=candidate.product.name,
                price=Money(amount=candidate.price, currency=settings.currency),
                estimated_delivery=estimated_delivery(
                    ship_day, candidate.transit_days, settings.zone
                ),
                billable_weight_grams=sum(p.weight_grams for p in request.parcels),
                eco_options=(mapping.GOGREEN_PLUS,) if passed.get((code, True)) else (),
                label_formats=label_formats,
            )
        )
    if found and not result:
        detail = "; ".join(
            f"{code}: {', '.join(messages) or 'refused'}" for code, messages in reasons.items()
        )
        raise PermanentError(f"DHL refused every product for {request.shipment_id}: {detail}")
    return result
