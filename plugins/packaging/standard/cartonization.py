"""Cartonization: which boxes, and how many, hold a shipment's items. Pure.

Heuristic, in three checks per (items, box):

1. every unit fits the box in some axis-aligned orientation, and the units weigh no more than
   the box's load limit;
2. the units' total volume is at most ``fill_factor`` of the inner volume (room for products
   that are not perfect cuboids, and for protection);
3. a layer ("shelf") packing places every unit, largest first: a unit goes into the first row
   of the first layer with room for it (any orientation no taller than the layer), else opens a
   new row in that layer, else a new layer on top, lying as flat as it can. The box is tried in
   each of its orientations (which axis is up, which way the rows run).

The single box is the first that passes, boxes ordered smallest first. When none does,
units are split first-fit decreasing: each unit, largest first, joins the first parcel that some
box could still hold with it, else starts a new parcel; each parcel is then right-sized.

Limits: the layer packing never accepts an impossible arrangement but may reject a possible one
(units are not nested beside taller neighbours, rows are not mixed across layers), so it can
choose a box one size up, or one parcel more, than an exact 3D packer. Products are treated as
rigid cuboids; load limits, not stacking strength, bound the weight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import permutations

from hub.domain.messages import ItemSpec

Size = tuple[int, int, int]
"""Millimetres along three axes."""


@dataclass(frozen=True)
class Unit:
    """One physical item (an order line of quantity 3 is three units)."""

    sku: str
    size: Size
    weight_grams: int

    @property
    def volume_mm3(self) -> int:
        return self.size[0] * self.size[1] * self.size[2]


@dataclass(frozen=True)
class Container:
    """What the packer needs to know of a box or mailer."""

    id: str
    inner: Size
    max_load_grams: int

    @property
    def volume_mm3(self) -> int:
        return self.inner[0] * self.inner[1] * self.inner[2]


@dataclass(frozen=True)
class Packed:
    container: Container
    units: tuple[Unit, ...]

    @property
    def items_volume_mm3(self) -> int:
        return sum(u.volume_mm3 for u in self.units)

    @property
    def items_weight_grams(self) -> int:
        return sum(u.weight_grams for u in self.units)


def units_of(items: Iterable[tuple[ItemSpec, int]]) -> list[Unit]:
    units: list[Unit] = []
    for spec, quantity in items:
        d = spec.dimensions
        unit = Unit(spec.sku, (d.length_mm, d.width_mm, d.height_mm), spec.weight_grams)
        units.extend([unit] * quantity)
    return units


def _largest_first(units: Iterable[Unit]) -> list[Unit]:
    return sorted(units, key=lambda u: (-u.volume_mm3, -max(u.size), -u.weight_grams, u.sku))


def holds(container: Container, units: Sequence[Unit], fill_factor: float) -> bool:
    """True if the container takes all the units by the three checks in the module docstring."""
    # Cheapest checks first: first-fit decreasing asks this question many times per parcel.
    if sum(u.weight_grams for u in units) > container.max_load_grams:
        return False
    if sum(u.volume_mm3 for u in units) > fill_factor * container.volume_mm3:
        return False
    inner = sorted(container.inner)
    for size in {u.size for u in units}:
        if any(a > b for a, b in zip(sorted(size), inner, strict=True)):
            return False
    ordered = _largest_first(units)
    # Which axis is "up", and which floor axis rows run along, changes what the greedy finds.
    return any(_layer_pack(ordered, turn) for turn in sorted(set(permutations(container.inner))))


@dataclass
class _Row:
    depth: int
    used_length: int


@dataclass
class _Layer:
    height: int
    used_depth: int = 0
    rows: list[_Row] = field(default_factory=list)


def _layer_pack(units: Sequence[Unit], box: tuple[int, ...]) -> bool:
    length, width, height = box
    layers: list[_Layer] = []
    used_height = 0
    for unit in units:
        turns = sorted(set(permutations(unit.size)))
        if any(_place_in_layer(layer, turns, length, width) for layer in layers):
            continue
        # A new layer: the flattest turn that fits the floor, so layers stay low.
        flat = [(h, lo, w) for lo, w, h in turns if lo <= length and w <= width]
        flat = [t for t in flat if used_height + t[0] <= height]
        if not flat:
            return False
        h, lo, w = min(flat)
        layers.append(_Layer(height=h, used_depth=w, rows=[_Row(depth=w, used_length=lo)]))
        used_height += h
    return True


def _place_in_layer(
    layer: _Layer, turns: Sequence[tuple[int, ...]], length: int, width: int
) -> bool:
    fitting = [(lo, w) for lo, w, h in turns if h <= layer.height]
    for row in layer.rows:
        for lo, w in sorted(fitting):  # shortest along the row first, to leave room behind it
            if w <= row.depth and row.used_length + lo <= length:
                row.used_length += lo
                return True
    for lo, w in sorted(fitting, key=lambda t: (t[1], t[0])):  # shallowest new row first
        if lo <= length and layer.used_depth + w <= width:
            layer.rows.append(_Row(depth=w, used_length=lo))
            layer.used_depth += w
            return True
    return False


def smallest_holding(
    containers: Sequence[Container], units: Sequence[Unit], fill_factor: float
) -> Container | None:
    """The first container in ``containers`` (ordered smallest first) that holds the units."""
    return next((c for c in containers if holds(c, units, fill_factor)), None)


def cartonize(
    containers: Sequence[Container], units: Sequence[Unit], fill_factor: float
) -> list[Packed] | None:
    """Parcels for the units, one if any container holds them all; None if a unit fits nowhere.

    ``containers`` must be ordered smallest first: that order decides what "right-sized" means.
    """
    if not units:
        return []
    single = smallest_holding(containers, units, fill_factor)
    if single is not None:
        return [Packed(single, tuple(units))]
    parcels: list[list[Unit]] = []
    for unit in _largest_first(units):
        home = next(
            (p for p in parcels if smallest_holding(containers, [*p, unit], fill_factor)), None
        )
        if home is not None:
            home.append(unit)
        elif smallest_holding(containers, [unit], fill_factor) is not None:
            parcels.append([unit])
        else:
            return None
    packed = []
    for parcel in parcels:
        box = smallest_holding(containers, parcel, fill_factor)
        assert box is not None  # every parcel was built so that some container holds it
        packed.append(Packed(box, tuple(parcel)))
    return packed
