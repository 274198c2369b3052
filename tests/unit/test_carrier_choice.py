from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hub.domain.carrier_choice import CarrierRules, NoEligibleQuoteError, carriers_for, choose
from hub.domain.messages import Quote
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat

NOW = datetime(2026, 11, 2, tzinfo=UTC)
PDF, ZPL = LabelFormat.PDF, LabelFormat.ZPL


def quote(carrier, service, price, days, eco=(), co2=None, weight=1000, formats=(PDF, ZPL)):
    return Quote(
        carrier=carrier,
        service_code=service,
        service_name=service.title(),
        price=Money(amount=Decimal(price), currency="EUR"),
        estimated_delivery=NOW + timedelta(days=days),
        billable_weight_grams=weight,
        eco_options=eco,
        co2e_grams=co2,
        label_formats=formats,
    )


QUOTES = [
    quote("ups", "ground", "9.00", 4, co2=900),
    quote("dhl", "parcel", "7.50", 3, co2=800),
    quote("dhl", "express", "19.00", 1, co2=2500),
    quote("postnord", "green", "8.00", 3, eco=("carbon_neutral",), co2=300),
]


def pick(quotes, rules=None, *, level="standard", deliver_by=None, label_format=PDF):
    return choose(
        quotes,
        rules or CarrierRules(),
        service_level=level,
        deliver_by=deliver_by,
        label_format=label_format,
    )


def test_cheapest_and_reason():
    choice = pick(QUOTES)
    assert (choice.carrier, choice.service_code) == ("dhl", "parcel")
    assert "cheapest of 4" in choice.reason
    assert choice.eco_option is None and choice.label_format is PDF


def test_fastest_and_greenest():
    assert pick(QUOTES, CarrierRules(strategy="fastest")).service_code == "express"
    assert pick(QUOTES, CarrierRules(strategy="greenest")).carrier == "postnord"


def test_deliver_by_drops_late_quotes():
    choice = pick(QUOTES, deliver_by=NOW + timedelta(days=2))
    assert choice.service_code == "express"
    assert "meets the deliver-by date" in choice.reason


def test_eco_preference_within_percent_buys_the_eco_option():
    choice = pick(QUOTES, CarrierRules(prefer_eco_within_percent=10))
    assert choice.carrier == "postnord"
    assert choice.eco_option == "carbon_neutral"
    assert "eco option within 10%" in choice.reason and "with carbon_neutral" in choice.reason
    five = pick(QUOTES, CarrierRules(prefer_eco_within_percent=5))
    assert five.carrier == "dhl" and five.eco_option is None


def test_an_eco_option_is_bought_only_when_the_seller_opted_in():
    # DHL-style: the eco option is an add-on of the cheapest quote itself.
    addon = [quote("dhl", "parcel", "7.50", 3, eco=("gogreen_plus",)), *QUOTES[:1]]
    assert pick(addon).eco_option is None
    assert pick(addon).eco_options == ("gogreen_plus",)  # offered, not chosen
    assert pick(addon, CarrierRules(prefer_eco_within_percent=1)).eco_option == "gogreen_plus"
    # Greenest is about the emissions estimate, not about buying compensation.
    assert pick(QUOTES, CarrierRules(strategy="greenest")).eco_option is None


def test_quotes_that_cannot_print_the_station_format_are_left_out():
    zpl_only = quote("usps", "ground", "5.00", 3, formats=(ZPL,))
    choice = pick([zpl_only, *QUOTES])
    assert (choice.carrier, choice.label_format) == ("dhl", PDF)
    assert "1 quote(s) that cannot be labelled as PDF left out" in choice.reason
    # A thermal station takes the cheaper one.
    thermal = pick([zpl_only, *QUOTES], label_format=ZPL)
    assert (thermal.carrier, thermal.label_format) == ("usps", ZPL)


def test_printable_comes_before_the_deliver_by_date():
    fast_zpl = quote("usps", "express", "30.00", 1, formats=(ZPL,))
    choice = pick([fast_zpl, *QUOTES[:2]], deliver_by=NOW + timedelta(days=2))
    assert choice.carrier in {"ups", "dhl"} and choice.label_format is PDF
    assert "no quote meets the deliver-by date" in choice.reason


def test_when_no_quote_prints_the_station_format_the_label_is_bought_in_one_it_can():
    only = [quote("usps", "ground", "5.00", 3, formats=(ZPL,))]
    choice = pick(only)
    assert (choice.carrier, choice.label_format) == ("usps", ZPL)
    assert "no quote can be labelled as PDF" in choice.reason
    assert choice.reason.endswith("labelled as ZPL")


def test_a_quote_naming_no_format_is_asked_for_the_station_format():
    silent = quote("thirdparty", "std", "4.00", 3, formats=())
    assert pick([silent, *QUOTES], label_format=LabelFormat.PNG).carrier == "thirdparty"
    assert pick([silent], label_format=LabelFormat.PNG).label_format is LabelFormat.PNG


def test_service_levels_and_weight_limits_and_exclusions():
    rules = CarrierRules(
        service_levels={"express": ["express"]},
        max_billable_weight_grams={"dhl": 500},
        exclude={"NO": ["ups"]},
    )
    with pytest.raises(NoEligibleQuoteError, match="weight limit"):
        pick(QUOTES, rules, level="express")
    assert carriers_for("NO", ["ups", "dhl"], rules) == ["dhl"]
    with pytest.raises(NoEligibleQuoteError, match="no carrier returned"):
        pick([], level="s")
