"""From a packing request to priced options: standard, eco and (on opt-in) minimal. Pure.

- ``standard``: right-sized corrugated boxes, empty space filled with crumpled kraft paper.
- ``eco``: the same, in boxes of 100 % recycled board (only boxes stocked that way); no plastic.
- ``minimal``: only when the customer opted in: one mailer, else the catalogue's smallest box,
  without void fill, if the items fit; never split into several parcels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from itertools import groupby

from hub.domain.messages import PackagingOption, PackagingRequest
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, Parcel
from plugins.packaging.standard.cartonization import (
    Container,
    Packed,
    Unit,
    cartonize,
    smallest_holding,
    units_of,
)
from plugins.packaging.standard.emission_factors import Material, co2e_grams
from plugins.packaging.standard.settings import BoxKind, BoxSpec, StandardPackagingSettings

_CENT = Decimal("0.01")


class Variant(StrEnum):
    STANDARD = "standard"
    ECO = "eco"
    MINIMAL = "minimal"


def packaging_options(
    request: PackagingRequest, settings: StandardPackagingSettings
) -> list[PackagingOption]:
    """Every variant the items allow; empty if some item fits no box of the catalogue."""
    units = units_of(request.items)
    if not units:
        return []
    catalogue = sorted(settings.boxes, key=lambda b: (b.inner_volume_m3, b.cost, b.id))
    boxes = [b for b in catalogue if b.kind is BoxKind.BOX]
    plans: list[tuple[Variant, list[Packed] | None]] = [
        (Variant.STANDARD, _pack(boxes, units, settings)),
        (Variant.ECO, _pack([b for b in boxes if b.recycled_cost is not None], units, settings)),
    ]
    if request.minimal_packaging:
        mailers = [b for b in catalogue if b.kind is BoxKind.MAILER]
        bare = smallest_holding(_containers([*mailers, *boxes[:1]]), units, settings.fill_factor)
        plans.append((Variant.MINIMAL, None if bare is None else [Packed(bare, tuple(units))]))
    by_id = {b.id: b for b in catalogue}
    return [
        _option(variant, packed, by_id, request, settings)
        for variant, packed in plans
        if packed  # None: the items do not fit this variant's boxes
    ]


def unplaceable_skus(request: PackagingRequest, settings: StandardPackagingSettings) -> list[str]:
    """SKUs of which one unit alone fits no box or mailer of the catalogue."""
    containers = _containers(settings.boxes)
    return sorted(
        {
            u.sku
            for u in units_of(request.items)
            if smallest_holding(containers, [u], settings.fill_factor) is None
        }
    )


def _containers(boxes: Sequence[BoxSpec]) -> list[Container]:
    return [Container(b.id, b.inner_mm, b.max_load_grams) for b in boxes]


def _pack(
    boxes: Sequence[BoxSpec], units: Sequence[Unit], settings: StandardPackagingSettings
) -> list[Packed] | None:
    return cartonize(_containers(boxes), units, settings.fill_factor) if boxes else None


def _option(
    variant: Variant,
    packed: Sequence[Packed],
    by_id: dict[str, BoxSpec],
    request: PackagingRequest,
    settings: StandardPackagingSettings,
) -> PackagingOption:
    materials: defaultdict[Material, float] = defaultdict(float)
    parcels: list[Parcel] = []
    cost = Decimal(0)
    for index, parcel in enumerate(packed):
        box = by_id[parcel.container.id]
        materials[Material.RECYCLED_BOARD if variant is Variant.ECO else box.material] += (
            box.material_kg
        )
        fill_kg = 0.0
        if variant is not Variant.MINIMAL:
            empty_m3 = max(0.0, box.inner_volume_m3 - parcel.items_volume_mm3 / 1e9)
            fill_kg = round(empty_m3 * settings.void_fill_kg_per_m3, 4)
            materials[Material.KRAFT_PAPER] += fill_kg
        weight = parcel.items_weight_grams + box.tare_grams + round(fill_kg * 1000)
        if index == 0:
            weight += request.insert_weight_grams  # cards go in with the first parcel
        length, width, height = box.outer_mm
        parcels.append(
            Parcel(
                weight_grams=weight,
                dimensions=Dimensions(length_mm=length, width_mm=width, height_mm=height),
                packaging_id=box.id,
            )
        )
        box_cost = box.recycled_cost if variant is Variant.ECO else box.cost
        assert box_cost is not None  # eco plans only use boxes with a recycled_cost
        cost += box_cost + Decimal(str(fill_kg)) * settings.void_fill_cost_per_kg
    # CO2e is computed from the rounded masses that are reported, so the two always agree.
    reported = {m: round(kg, 4) for m, kg in sorted(materials.items()) if kg > 0}
    return PackagingOption(
        option_id=f"{_ids(packed)}:{variant.value}",
        box_name=_names(packed, by_id, variant),
        parcels=tuple(parcels),
        materials_kg={m.value: kg for m, kg in reported.items()},
        co2e_grams=co2e_grams(reported),
        cost=Money(amount=cost.quantize(_CENT), currency=settings.currency),
        eco=variant is Variant.ECO,
        minimal=variant is Variant.MINIMAL,
    )


def _runs(packed: Sequence[Packed]) -> list[tuple[str, int]]:
    """Box ids with their counts, in parcel order: [("box-l", 2), ("box-m", 1)]."""
    return [(box_id, len(list(run))) for box_id, run in groupby(p.container.id for p in packed)]


def _ids(packed: Sequence[Packed]) -> str:
    return "+".join(f"{n}x{box_id}" if n > 1 else box_id for box_id, n in _runs(packed))


def _names(packed: Sequence[Packed], by_id: dict[str, BoxSpec], variant: Variant) -> str:
    name = " + ".join(
        f"{n} x {by_id[box_id].name}" if n > 1 else by_id[box_id].name
        for box_id, n in _runs(packed)
    )
    if variant is Variant.ECO:
        return f"{name}, recycled board"
    if variant is Variant.MINIMAL:
        return f"{name}, no void fill"
    return f"{name} with paper fill"
