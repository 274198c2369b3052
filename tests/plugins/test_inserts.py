"""Standard inserts: each rule on and off (pure), the config tables, and the hook via the host."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.messages import InsertRequest
from hub.domain.money import Money
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.inserts.standard import StandardInserts, StandardInsertsSettings
from plugins.inserts.standard.rules import inserts_for

DEFAULTS = StandardInsertsSettings()


def request(
    total: str = "40.00",
    currency: str = "EUR",
    *,
    country: str = "DE",
    gift: bool = False,
    tags: tuple[str, ...] = (),
) -> InsertRequest:
    return InsertRequest(
        order_key="sandbox:1001",
        marketplace="sandbox",
        destination_country=country,
        order_total=Money(amount=Decimal(total), currency=currency),
        is_gift=gift,
        tags=tags,
    )


def settings(**tables: dict[str, object]) -> StandardInsertsSettings:
    return StandardInsertsSettings.model_validate(tables)


def ids(req: InsertRequest, config: StandardInsertsSettings = DEFAULTS) -> list[str]:
    return [i.insert_id for i in inserts_for(req, config)]


def test_a_plain_order_gets_the_thank_you_card_and_the_return_guide():
    inserts = inserts_for(request(), DEFAULTS)
    assert [(i.insert_id, i.name, i.weight_grams) for i in inserts] == [
        ("thank-you-card", "Thank-you card", 6),
        ("return-guide", "Return guide", 8),
    ]
    assert all(i.reason for i in inserts)


def test_thank_you_card_can_be_switched_off():
    assert "thank-you-card" not in ids(request(), settings(thank_you={"enabled": False}))


def test_return_guide_goes_only_to_the_listed_countries():
    config = settings(return_guide={"countries": ["at", "DE"]})
    assert "return-guide" in ids(request(country="DE"), config)
    assert "return-guide" not in ids(request(country="US"), config)
    (guide,) = [
        i for i in inserts_for(request(country="AT"), config) if i.insert_id == "return-guide"
    ]
    assert guide.reason == "destination AT gets a return guide"


def test_return_guide_can_be_switched_off():
    assert "return-guide" not in ids(request(), settings(return_guide={"enabled": False}))


def test_gift_note_only_for_gifts():
    assert "gift-note" not in ids(request())
    (note,) = [i for i in inserts_for(request(gift=True), DEFAULTS) if i.insert_id == "gift-note"]
    assert note.reason == "order marked as a gift"
    assert "gift-note" not in ids(request(gift=True), settings(gift_note={"enabled": False}))


@pytest.mark.parametrize(
    ("total", "currency", "expected"),
    [
        ("99.99", "EUR", False),
        ("100.00", "EUR", True),  # the threshold itself qualifies
        ("250.00", "EUR", True),
        ("500.00", "USD", False),  # no USD threshold, and no exchange rates
    ],
)
def test_coupon_from_the_threshold_of_the_order_currency(total, currency, expected):
    assert ("coupon-card" in ids(request(total, currency))) is expected


def test_coupon_reason_and_thresholds_per_currency():
    config = settings(coupon={"thresholds": {"eur": "100", "GBP": "85.50"}})
    (coupon,) = [i for i in inserts_for(request("120.00"), config) if i.insert_id == "coupon-card"]
    assert coupon.reason == "order total 120.00 EUR reaches 100 EUR"
    (gbp,) = [i for i in inserts_for(request("90", "GBP"), config) if i.insert_id == "coupon-card"]
    assert gbp.reason == "order total 90.00 GBP reaches 85.50 GBP"
    assert "coupon-card" not in ids(request("120.00"), settings(coupon={"enabled": False}))


def test_season_flyer_when_the_configured_tag_is_present():
    assert "new-season-flyer" not in ids(request(tags=("newsletter",)))
    (flyer,) = [
        i
        for i in inserts_for(request(tags=("newsletter", "New-Season ")), DEFAULTS)
        if i.insert_id == "new-season-flyer"
    ]
    assert flyer.reason == "order tagged 'new-season'"
    config = settings(season_flyer={"tag": "autumn-drop"})
    assert "new-season-flyer" in ids(request(tags=("autumn-drop",)), config)
    assert "new-season-flyer" not in ids(request(tags=("new-season",)), config)
    off = settings(season_flyer={"enabled": False})
    assert "new-season-flyer" not in ids(request(tags=("new-season",)), off)


def test_every_rule_at_once_in_the_fixed_order():
    everything = request("150.00", gift=True, tags=("new-season",))
    assert ids(everything) == [
        "thank-you-card",
        "return-guide",
        "gift-note",
        "coupon-card",
        "new-season-flyer",
    ]


def test_everything_off_gives_no_inserts():
    off = {"enabled": False}
    config = settings(thank_you=off, return_guide=off, gift_note=off, coupon=off, season_flyer=off)
    assert ids(request("150.00", gift=True, tags=("new-season",)), config) == []


def test_config_tables_from_toml():
    table = tomllib.loads(
        """
        [thank_you]
        insert_id = "merci-card"
        name = "Merci card"
        weight_grams = 4
        [return_guide]
        countries = ["FR", "BE"]
        [coupon]
        thresholds = { EUR = "80" }
        """
    )
    config = StandardInsertsSettings.model_validate(table)
    assert ids(request("80.00", country="FR"), config) == [
        "merci-card",
        "return-guide",
        "coupon-card",
    ]


@pytest.mark.parametrize(
    "tables",
    [
        {"return_guide": {"countries": ["XX"]}},
        {"coupon": {"thresholds": {"EURO": "100"}}},
        {"gift_note": {"insert_id": "Gift Note"}},
        {"gift_note": {"colour": "red"}},
    ],
)
def test_bad_settings_are_refused(tables):
    with pytest.raises(ValidationError):
        StandardInsertsSettings.model_validate(tables)


async def test_inserts_through_the_plugin_host(tmp_path: Path):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugin = StandardInserts(DEFAULTS, PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    pm.register(plugin, name="inserts.standard")
    host = PluginHost(pm, {"inserts.standard": plugin})
    inserts = await host.inserts(request("120.00", gift=True))
    assert [i.insert_id for i in inserts] == [
        "thank-you-card",
        "return-guide",
        "gift-note",
        "coupon-card",
    ]
    assert sum(i.weight_grams for i in inserts) == 6 + 8 + 5 + 5
