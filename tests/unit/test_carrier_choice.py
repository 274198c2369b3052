from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hub.domain.carrier_choice import CarrierRules, NoEligibleQuoteError, carriers_for, choose
from hub.domain.messages import Quote
from hub.domain.money import Money

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def quote(carrier, service, price, days, eco=(), co2=None, weight=1000):
    return Quote(
        carrier=carrier,
        service_code=service,
        service_name=service.title(),
        price=Money(amount=Decimal(price), currency="EUR"),
        estimated_delivery=NOW + timedelta(days=days),
        billable_weight_grams=weight,
        eco_options=eco,
        co2e_grams=co2,
    )


QUOTES = [
    quote("ups", "ground", "9.00", 4, co2=900),
    quote("dhl", "parcel", "7.50", 3, co2=800),
    quote("dhl", "express", "19.00", 1, co2=2500),
    quote("postnord", "green", "8.00", 3, eco=("carbon_neutral",), co2=300),
]


def test_cheapest_and_reason():
    choice = choose(QUOTES, CarrierRules(), service_level="standard", deliver_by=None)
    assert (choice.carrier, choice.service_code) == ("dhl", "parcel")
    assert "cheapest of 4" in choice.reason


def test_fastest_and_greenest():
    assert (
        choose(
            QUOTES, CarrierRules(strategy="fastest"), service_level="x", deliver_by=None
        ).service_code
        == "express"
    )
    assert (
        choose(
            QUOTES, CarrierRules(strategy="greenest"), service_level="x", deliver_by=None
        ).carrier
        == "postnord"
    )


def test_deliver_by_drops_late_quotes():
    choice = choose(
        QUOTES, CarrierRules(), service_level="standard", deliver_by=NOW + timedelta(days=2)
    )
    assert choice.service_code == "express"
    assert "meets the deliver-by date" in choice.reason


def test_eco_preference_within_percent():
    choice = choose(
        QUOTES, CarrierRules(prefer_eco_within_percent=10), service_level="s", deliver_by=None
    )
    assert choice.carrier == "postnord"
    assert "eco option within 10%" in choice.reason
    assert (
        choose(
            QUOTES, CarrierRules(prefer_eco_within_percent=5), service_level="s", deliver_by=None
        ).carrier
        == "dhl"
    )


def test_service_levels_and_weight_limits_and_exclusions():
    rules = CarrierRules(
        service_levels={"express": ["express"]},
        max_billable_weight_grams={"dhl": 500},
        exclude={"NO": ["ups"]},
    )
    with pytest.raises(NoEligibleQuoteError, match="weight limit"):
        choose(QUOTES, rules, service_level="express", deliver_by=None)
    assert carriers_for("NO", ["ups", "dhl"], rules) == ["dhl"]
    with pytest.raises(NoEligibleQuoteError, match="no carrier returned"):
        choose([], CarrierRules(), service_level="s", deliver_by=None)
