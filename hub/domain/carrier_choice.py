"""Choosing a carrier service from quotes, by rules from config. Pure: the reason is recorded.

The choice is what the label is bought as: the service, its eco option (when the seller opted
in) and the label format. Formats are settled here, at quote time, so a chosen quote never
fails at label time: a quote names the formats its carrier can make for these parcels (USPS
and DHL make one label per parcel and only ZPL labels join into one document), quotes that
can print the packing station's format are preferred, and only if none can is the label bought
in a format the chosen carrier makes (the reason says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.messages import Quote
from hub.domain.shipment import CarrierChoice, LabelFormat


class CarrierRules(BaseModel):
    """How the hub picks a carrier service among the quotes of every enabled carrier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Literal["cheapest", "fastest", "greenest"] = "cheapest"
    must_meet_deliver_by: bool = True
    """Drop quotes that would arrive after the order's deliver-by date (if any quote meets it)."""
    prefer_eco_within_percent: float = Field(default=0.0, ge=0)
    """Take a quote with eco options if it costs at most this much more than the best one, and
    buy its label with the eco option. 0: eco options are not bought."""
    max_billable_weight_grams: dict[str, int] = Field(default_factory=dict)
    """Carrier -> heaviest billable weight it may be given."""
    exclude: dict[str, list[str]] = Field(default_factory=dict)
    """Destination country (ISO alpha-2) -> carriers never used there."""
    service_levels: dict[str, list[str]] = Field(default_factory=dict)
    """Order service level -> allowed carrier service codes (absent: any)."""


class NoEligibleQuoteError(ValueError):
    """Every quote was ruled out; the message says why, per rule."""


def carriers_for(destination: str, enabled: Sequence[str], rules: CarrierRules) -> list[str]:
    excluded = set(rules.exclude.get(destination, ()))
    return [carrier for carrier in enabled if carrier not in excluded]


def choose(
    quotes: Sequence[Quote],
    rules: CarrierRules,
    *,
    service_level: str,
    deliver_by: datetime | None,
    label_format: LabelFormat,
) -> CarrierChoice:
    """The quote to buy, by `rules`; `label_format` is what the packing station prints."""
    if not quotes:
        raise NoEligibleQuoteError("no carrier returned a quote")
    notes: list[str] = []
    eligible = list(quotes)

    allowed = rules.service_levels.get(service_level)
    if allowed is not None:
        eligible = [q for q in eligible if q.service_code in allowed]
        if not eligible:
            raise NoEligibleQuoteError(f"no quote offers a service allowed for '{service_level}'")

    limits = rules.max_billable_weight_grams
    eligible = [q for q in eligible if q.billable_weight_grams <= limits.get(q.carrier, 10**9)]
    if not eligible:
        raise NoEligibleQuoteError("every quote is over its carrier's weight limit")

    # Before the deliver-by date: a label the station cannot print ships nothing on time.
    printable = [q for q in eligible if label_format in formats_of(q, label_format)]
    if not printable:
        notes.append(f"no quote can be labelled as {label_format.value}")
    elif len(printable) < len(eligible):
        left_out = len(eligible) - len(printable)
        notes.append(
            f"{left_out} quote(s) that cannot be labelled as {label_format.value} left out"
        )
        eligible = printable

    if deliver_by is not None and rules.must_meet_deliver_by:
        on_time = [
            q for q in eligible if q.estimated_delivery and q.estimated_delivery <= deliver_by
        ]
        if on_time:
            eligible = on_time
            notes.append("meets the deliver-by date")
        else:
            notes.append("no quote meets the deliver-by date; fastest-possible rules applied")

    ranked = sorted(eligible, key=_ranking(rules.strategy))
    best = ranked[0]
    chosen, why = best, f"{rules.strategy} of {len(eligible)} eligible quote(s)"
    if rules.prefer_eco_within_percent and not best.eco_options:
        ceiling = best.price.amount * (1 + Decimal(str(rules.prefer_eco_within_percent)) / 100)
        eco = [q for q in ranked if q.eco_options and q.price.amount <= ceiling]
        if eco:
            chosen = eco[0]
            why = f"eco option within {rules.prefer_eco_within_percent:g}% of the {rules.strategy}"
    eco_option = (
        chosen.eco_options[0] if rules.prefer_eco_within_percent and chosen.eco_options else None
    )
    fmt = label_format_for(chosen, label_format)
    bought = [f"{chosen.price} via {chosen.carrier} {chosen.service_name}"]
    if eco_option is not None:
        bought.append(f"with {eco_option}")
    if fmt is not label_format:
        bought.append(f"labelled as {fmt.value}")
    reason = "; ".join([why, *notes, " ".join(bought)])
    return CarrierChoice(
        carrier=chosen.carrier,
        service_code=chosen.service_code,
        service_name=chosen.service_name,
        price=chosen.price,
        estimated_delivery=chosen.estimated_delivery,
        reason=reason,
        eco_options=chosen.eco_options,
        co2e_grams=chosen.co2e_grams,
        eco_option=eco_option,
        label_format=fmt,
    )


def formats_of(quote: Quote, wanted: LabelFormat) -> tuple[LabelFormat, ...]:
    """The formats `quote`'s label can be bought in. A carrier that does not say is asked for
    the configured format, as before quotes named formats."""
    return quote.label_formats or (wanted,)


def label_format_for(quote: Quote, wanted: LabelFormat) -> LabelFormat:
    """`wanted` if the carrier makes it for these parcels, else the first format it makes."""
    formats = formats_of(quote, wanted)
    return wanted if wanted in formats else formats[0]


def _ranking(strategy: str):  # type: ignore[no-untyped-def]
    far = datetime.max.replace(tzinfo=None)

    def eta(q: Quote) -> float:
        return q.estimated_delivery.timestamp() if q.estimated_delivery else far.timestamp()

    def co2(q: Quote) -> int:
        return q.co2e_grams if q.co2e_grams is not None else 10**12

    if strategy == "fastest":
        return lambda q: (eta(q), q.price.amount, q.carrier, q.service_code)
    if strategy == "greenest":
        return lambda q: (co2(q), q.price.amount, q.carrier, q.service_code)
    return lambda q: (q.price.amount, eta(q), q.carrier, q.service_code)
