"""Standard packaging: cartonization (pure), the options offered, the hook through the host."""

from __future__ import annotations

import logging
import tomllib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.messages import ItemSpec, PackagingOption, PackagingRequest
from hub.domain.shipment import Dimensions
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.packaging.standard import StandardPackaging, StandardPackagingSettings
from plugins.packaging.standard.cartonization import Container, Unit, cartonize, holds
from plugins.packaging.standard.emission_factors import (
    CORRUGATED_BOARD,
    KG_CO2E_PER_KG,
    KRAFT_PAPER,
    LDPE,
    RECYCLED_BOARD,
    Material,
)
from plugins.packaging.standard.options import packaging_options

# Sizes and weights from config/catalog.toml.
SOCKS = ItemSpec(
    sku="SOCK-WOOL-3PK",
    name="Wool socks, 3 pairs",
    weight_grams=150,
    dimensions=Dimensions(length_mm=200, width_mm=120, height_mm=40),
)
TEE = ItemSpec(
    sku="TEE-ORG-BLK-M",
    name="Organic tee",
    weight_grams=180,
    dimensions=Dimensions(length_mm=300, width_mm=220, height_mm=30),
)
MUG = ItemSpec(
    sku="MUG-CER-350",
    name="Mug",
    weight_grams=420,
    dimensions=Dimensions(length_mm=120, width_mm=120, height_mm=110),
)
HOODIE = ItemSpec(
    sku="HOOD-MER-GRY-M",
    name="Hoodie",
    weight_grams=520,
    dimensions=Dimensions(length_mm=350, width_mm=280, height_mm=70),
)
LAMP = ItemSpec(
    sku="LAMP-DESK-LED",
    name="Desk lamp",
    weight_grams=1400,
    dimensions=Dimensions(length_mm=420, width_mm=200, height_mm=160),
)
BOOK = ItemSpec(
    sku="BOOK-FIELD-GUIDE",
    name="Field guide",
    weight_grams=850,
    dimensions=Dimensions(length_mm=240, width_mm=170, height_mm=35),
)
SETTINGS = StandardPackagingSettings()


def request(*items: tuple[ItemSpec, int], minimal: bool = False, inserts: int = 0):
    return PackagingRequest(
        shipment_id="S1",
        items=items,
        destination_country="DE",
        minimal_packaging=minimal,
        insert_weight_grams=inserts,
    )


def by_id(options: list[PackagingOption]) -> dict[str, PackagingOption]:
    return {o.option_id: o for o in options}


def box(settings: StandardPackagingSettings, box_id: str):
    return next(b for b in settings.boxes if b.id == box_id)


# --------------------------------------------------------------------------- cartonization


def test_layer_packing_rejects_what_volume_alone_would_accept():
    cube = Container("cube", (100, 100, 100), max_load_grams=10_000)
    half = Unit("H", (60, 60, 60), 100)  # two take 43 % of the volume, yet never fit together
    assert holds(cube, [half], fill_factor=1.0)
    assert not holds(cube, [half, half], fill_factor=1.0)


def test_layer_packing_tiles_a_box_exactly_in_any_orientation():
    cube = Container("cube", (100, 100, 100), max_load_grams=10_000)
    plank = Unit("P", (100, 50, 50), 100)
    assert holds(cube, [plank] * 4, fill_factor=1.0)
    assert not holds(cube, [plank] * 5, fill_factor=1.0)
    assert not holds(cube, [plank] * 4, fill_factor=0.99)  # no room left for protection


def test_cartonize_splits_first_fit_decreasing_and_right_sizes_the_last_parcel():
    small = Container("small", (100, 100, 100), max_load_grams=1_000)
    large = Container("large", (200, 200, 200), max_load_grams=1_000)
    heavy = Unit("HEAVY", (50, 50, 50), 400)
    packed = cartonize([small, large], [heavy] * 5, fill_factor=0.9)
    assert packed is not None
    assert [p.container.id for p in packed] == ["small", "small", "small"]
    assert [len(p.units) for p in packed] == [2, 2, 1]


def test_cartonize_gives_up_on_a_unit_no_box_holds():
    small = Container("small", (100, 100, 100), max_load_grams=1_000)
    assert cartonize([small], [Unit("POLE", (300, 10, 10), 100)], fill_factor=0.9) is None


_sizes = st.tuples(*[st.integers(min_value=5, max_value=450)] * 3)
_units = st.builds(Unit, st.sampled_from(["A", "B", "C"]), _sizes, st.integers(1, 8000))


@settings(max_examples=60, deadline=None)
@given(st.lists(_units, min_size=1, max_size=12))
def test_cartonize_places_every_unit_once_in_a_box_that_holds_its_parcel(units):
    boxes = sorted(
        (Container(b.id, b.inner_mm, b.max_load_grams) for b in SETTINGS.boxes),
        key=lambda c: c.volume_mm3,
    )
    packed = cartonize(boxes, units, fill_factor=0.85)
    if packed is None:  # only when some unit alone fits no box
        assert any(not any(holds(b, [u], 0.85) for b in boxes) for u in units)
        return
    assert Counter(u for p in packed for u in p.units) == Counter(units)
    for parcel in packed:
        assert holds(parcel.container, parcel.units, 0.85)
        smaller = boxes[: boxes.index(parcel.container)]
        assert not any(holds(b, parcel.units, 0.85) for b in smaller)  # right-sized


# --------------------------------------------------------------------------- box choice


def test_a_small_order_gets_the_smallest_box_that_fits():
    options = by_id(packaging_options(request((SOCKS, 1)), SETTINGS))
    assert set(options) == {"box-xs:standard", "box-xs:eco"}
    standard = options["box-xs:standard"]
    assert len(standard.parcels) == 1
    assert standard.parcels[0].packaging_id == "box-xs"
    assert not standard.eco and not standard.minimal
    assert options["box-xs:eco"].eco
    assert set(options["box-xs:eco"].materials_kg) == {"recycled_board", "kraft_paper"}


def test_mugs_fit_the_small_box_lying_any_way_up():
    options = by_id(packaging_options(request((MUG, 2)), SETTINGS))
    assert "box-s:standard" in options


def test_a_large_order_gets_one_large_box():
    options = by_id(packaging_options(request((LAMP, 2), (MUG, 3), (HOODIE, 2)), SETTINGS))
    assert set(options) == {"box-xl:standard", "box-xl:eco"}
    (parcel,) = options["box-xl:standard"].parcels
    items = 2 * 1400 + 3 * 420 + 2 * 520
    assert parcel.weight_grams > items


def test_too_heavy_for_one_box_splits_into_parcels_within_each_load_limit():
    options = by_id(packaging_options(request((BOOK, 40)), SETTINGS))
    standard = options["box-xl+box-l:standard"]
    assert options["box-xl+box-l:eco"].parcels == standard.parcels
    xl, large = box(SETTINGS, "box-xl"), box(SETTINGS, "box-l")
    # 29 books reach the XL box's 25 kg load; the other 11 go into the right-sized large box.
    fill_grams = round(standard.materials_kg["kraft_paper"] * 1000)
    tares = xl.tare_grams + large.tare_grams
    total = sum(p.weight_grams for p in standard.parcels)
    assert abs(total - (40 * 850 + tares + fill_grams)) <= 1  # fill is rounded per parcel
    assert standard.parcels[0].weight_grams < 29 * 850 + xl.tare_grams + 1000


def test_too_bulky_for_one_box_splits_into_parcels():
    (standard,) = [o for o in packaging_options(request((LAMP, 10)), SETTINGS) if not o.eco]
    assert standard.option_id == "2xbox-xl+box-l:standard"
    assert standard.box_name.startswith("2 x Extra-large box")
    assert [p.packaging_id for p in standard.parcels] == ["box-xl", "box-xl", "box-l"]


def test_an_item_no_box_holds_gets_no_option_and_a_warning(tmp_path, caplog):
    pole = ItemSpec(
        sku="POLE",
        name="Tent pole",
        weight_grams=900,
        dimensions=Dimensions(length_mm=1500, width_mm=30, height_mm=30),
    )
    plugin = StandardPackaging(SETTINGS, PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    with caplog.at_level(logging.WARNING):
        assert plugin.packaging_options(request((pole, 1), (SOCKS, 1))) == []
    assert "S1: no box in the catalogue holds POLE" in caplog.text


def test_eco_is_offered_only_when_the_boxes_are_stocked_in_recycled_board():
    boxes = [b.model_copy(update={"recycled_cost": None}) for b in SETTINGS.boxes]
    settings = StandardPackagingSettings(boxes=tuple(boxes))
    assert [o.option_id for o in packaging_options(request((SOCKS, 1)), settings)] == [
        "box-xs:standard"
    ]


# --------------------------------------------------------------------------- minimal


def test_minimal_is_offered_only_to_customers_who_opted_in():
    plain = packaging_options(request((TEE, 1)), SETTINGS)
    assert not any(o.minimal for o in plain)
    opted = by_id(packaging_options(request((TEE, 1), minimal=True), SETTINGS))
    minimal = opted["mailer-m:minimal"]
    assert minimal.minimal and not minimal.eco
    assert minimal.materials_kg == {"ldpe": 0.02}  # a bag, no void fill
    assert minimal.parcels[0].weight_grams == 180 + 22


def test_minimal_falls_back_to_the_smallest_box_without_fill():
    candle = ItemSpec(
        sku="CANDLE",
        name="Candle in a tin",
        weight_grams=300,
        dimensions=Dimensions(length_mm=90, width_mm=90, height_mm=75),
    )
    options = by_id(packaging_options(request((candle, 2), minimal=True), SETTINGS))
    minimal = options["box-xs:minimal"]  # too thick for the mailer
    assert set(minimal.materials_kg) == {"corrugated_board"}
    assert minimal.parcels[0].weight_grams == 2 * 300 + box(SETTINGS, "box-xs").tare_grams


def test_no_minimal_option_when_the_items_need_more_than_the_smallest_box():
    options = packaging_options(request((HOODIE, 1), minimal=True), SETTINGS)
    assert options
    assert not any(o.minimal for o in options)


# --------------------------------------------------------------------------- weights, CO2e, cost


def test_co2e_is_factor_times_kg_for_every_option():
    options = packaging_options(request((BOOK, 40), (TEE, 3), minimal=True), SETTINGS)
    options += packaging_options(request((TEE, 1), minimal=True), SETTINGS)
    assert {o.option_id.split(":")[1] for o in options} == {"standard", "eco", "minimal"}
    for option in options:
        expected = sum(KG_CO2E_PER_KG[Material(m)] * kg for m, kg in option.materials_kg.items())
        assert option.co2e_grams == round(expected * 1000)


def test_co2e_of_a_bare_box_uses_the_sourced_factors():
    settings = StandardPackagingSettings(void_fill_kg_per_m3=0)
    options = by_id(packaging_options(request((SOCKS, 1), minimal=True), settings))
    assert options["box-xs:standard"].materials_kg == {"corrugated_board": 0.088}
    assert options["box-xs:standard"].co2e_grams == round(0.088 * CORRUGATED_BOARD * 1000) == 43
    assert options["box-xs:eco"].materials_kg == {"recycled_board": 0.088}
    assert options["box-xs:eco"].co2e_grams == round(0.088 * RECYCLED_BOARD * 1000) == 41
    assert options["mailer-m:minimal"].co2e_grams == round(0.02 * LDPE * 1000) == 42


def test_factors_are_the_ones_in_the_domain_notes():
    assert (CORRUGATED_BOARD, KRAFT_PAPER, LDPE) == (0.491, 0.421, 2.1)
    assert KG_CO2E_PER_KG[Material.RECYCLED_PLASTIC] == 1.4
    assert RECYCLED_BOARD < CORRUGATED_BOARD


def test_parcel_weight_is_items_plus_tare_plus_fill_and_inserts_go_in_the_first_parcel():
    xs = box(SETTINGS, "box-xs")
    (standard,) = [o for o in packaging_options(request((SOCKS, 1), inserts=17), SETTINGS) if o.eco]
    fill_kg = standard.materials_kg["kraft_paper"]
    empty_m3 = (200 * 150 * 80 - 200 * 120 * 40) / 1e9
    assert fill_kg == round(empty_m3 * SETTINGS.void_fill_kg_per_m3, 4)
    (parcel,) = standard.parcels
    assert parcel.weight_grams == 150 + xs.tare_grams + round(fill_kg * 1000) + 17
    assert parcel.dimensions == Dimensions(length_mm=206, width_mm=156, height_mm=92)

    split = packaging_options(request((BOOK, 40), inserts=17), SETTINGS)[0]
    without = packaging_options(request((BOOK, 40)), SETTINGS)[0]
    assert split.parcels[0].weight_grams == without.parcels[0].weight_grams + 17
    assert split.parcels[1:] == without.parcels[1:]


def test_cost_is_boxes_plus_fill_in_the_configured_currency():
    options = by_id(packaging_options(request((SOCKS, 1)), SETTINGS))
    standard, eco = options["box-xs:standard"], options["box-xs:eco"]
    fill = Decimal(str(standard.materials_kg["kraft_paper"])) * SETTINGS.void_fill_cost_per_kg
    assert standard.cost.currency == "EUR"
    assert standard.cost.amount == (Decimal("0.35") + fill).quantize(Decimal("0.01"))
    assert eco.cost.amount == (Decimal("0.38") + fill).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- settings


def test_an_empty_config_table_gives_the_default_catalogue():
    settings = StandardPackagingSettings.model_validate({})
    assert [b.id for b in settings.boxes][:2] == ["mailer-m", "box-xs"]


def test_a_catalogue_from_toml_replaces_the_default():
    table = tomllib.loads(
        """
        currency = "GBP"
        [[boxes]]
        id = "box-s"
        name = "Small box"
        inner_mm = [250, 180, 120]
        outer_mm = [256, 186, 132]
        tare_grams = 150
        material_kg = 0.14
        max_load_grams = 10000
        cost = "0.45"
        recycled_cost = "0.50"
        """
    )
    settings = StandardPackagingSettings.model_validate(table)
    options = by_id(packaging_options(request((SOCKS, 1)), settings))
    assert options["box-s:eco"].cost.currency == "GBP"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outer_mm": (100, 100, 100)}, "outer_mm must not be smaller"),
        ({"material_kg": 5.0}, "weighs more than tare_grams"),
        ({"material": "ldpe"}, "a box is made of board"),
    ],
)
def test_a_box_that_cannot_exist_is_refused(change, message):
    raw = box(SETTINGS, "box-s").model_dump() | change
    with pytest.raises(ValidationError, match=message):
        StandardPackagingSettings.model_validate({"boxes": [raw]})


def test_duplicate_box_ids_are_refused():
    raw = box(SETTINGS, "box-s").model_dump()
    with pytest.raises(ValidationError, match="duplicate id"):
        StandardPackagingSettings.model_validate({"boxes": [raw, raw]})


# --------------------------------------------------------------------------- through the host


async def test_packaging_options_through_the_plugin_host(tmp_path: Path):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugin = StandardPackaging(SETTINGS, PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    pm.register(plugin, name="packaging.standard")
    host = PluginHost(pm, {"packaging.standard": plugin})
    options = await host.packaging_options(request((TEE, 1), minimal=True))
    assert {o.option_id for o in options} == {"box-m:standard", "box-m:eco", "mailer-m:minimal"}
