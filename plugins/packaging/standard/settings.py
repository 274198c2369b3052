"""Settings of the standard packaging plugin: ``[packaging.standard]`` in ``config/hub.toml``.

The box catalogue is a list of tables; a catalogue given in config replaces the default one::

    [[packaging.standard.boxes]]
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

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.domain.money import CurrencyCode
from hub.plugin import PluginSettings
from plugins.packaging.standard.emission_factors import PLASTICS, Material

Millimetres = Annotated[int, Field(gt=0)]


class BoxKind(StrEnum):
    BOX = "box"
    """A rigid corrugated box: used with void fill by the standard and eco options."""
    MAILER = "mailer"
    """A flexible bag: only for the minimal option; ``inner_mm`` is what lies flat inside."""


class BoxSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    """Stable id: part of option ids and of ``Parcel.packaging_id``."""
    name: str = Field(min_length=1)
    kind: BoxKind = BoxKind.BOX
    inner_mm: tuple[Millimetres, Millimetres, Millimetres]
    outer_mm: tuple[Millimetres, Millimetres, Millimetres]
    """What carriers measure: the parcel dimensions."""
    tare_grams: int = Field(gt=0)
    """Empty weight, tape and labels included."""
    material_kg: float = Field(gt=0)
    """Board (or film, or paper) in one empty box: what its CO2e is computed from."""
    material: Material = Material.CORRUGATED_BOARD
    max_load_grams: int = Field(gt=0)
    cost: Decimal = Field(ge=0)
    recycled_cost: Decimal | None = Field(default=None, ge=0)
    """Price of the same box in 100 % recycled board; unset: not stocked, no eco option."""

    @model_validator(mode="after")
    def _consistent(self) -> BoxSpec:
        inner, outer = sorted(self.inner_mm), sorted(self.outer_mm)
        if any(i > o for i, o in zip(inner, outer, strict=True)):
            raise ValueError(f"box {self.id}: outer_mm must not be smaller than inner_mm")
        if self.material_kg * 1000 > self.tare_grams:
            raise ValueError(f"box {self.id}: material_kg weighs more than tare_grams")
        boards = {Material.CORRUGATED_BOARD, Material.RECYCLED_BOARD}
        if self.kind is BoxKind.BOX and self.material not in boards:
            raise ValueError(f"box {self.id}: a box is made of board, not {self.material}")
        if self.kind is BoxKind.MAILER and self.material not in {*PLASTICS, Material.KRAFT_PAPER}:
            raise ValueError(f"box {self.id}: a mailer is made of plastic film or kraft paper")
        if self.kind is BoxKind.MAILER and self.recycled_cost is not None:
            raise ValueError(f"box {self.id}: recycled_cost applies to boxes only")
        return self

    @property
    def inner_volume_m3(self) -> float:
        x, y, z = self.inner_mm
        return x * y * z / 1e9


# Board per box: a regular slotted container's blank is about (2L + 2W + 35 mm glue flap) by
# (H + W), at 520 g/m2 for single-wall B flute and 750 g/m2 for double wall (the XL box). Outer
# size: board adds about 3 mm a side, doubled top and bottom by the flaps. Prices and load
# limits are illustrative: set your supplier's. Load limits count contents only; the XL one
# keeps a full box under the 31.5 kg most parcel carriers take. The mailer: two 350x450 mm
# faces of 70 um LDPE film.
DEFAULT_BOXES: tuple[BoxSpec, ...] = (
    BoxSpec(
        id="mailer-m",
        name="Poly mailer 350x450",
        kind=BoxKind.MAILER,
        inner_mm=(400, 300, 50),
        outer_mm=(450, 350, 60),
        tare_grams=22,
        material_kg=0.020,
        material=Material.LDPE,
        max_load_grams=2000,
        cost=Decimal("0.15"),
    ),
    BoxSpec(
        id="box-xs",
        name="Extra-small box",
        inner_mm=(200, 150, 80),
        outer_mm=(206, 156, 92),
        tare_grams=95,
        material_kg=0.088,
        max_load_grams=5_000,
        cost=Decimal("0.35"),
        recycled_cost=Decimal("0.38"),
    ),
    BoxSpec(
        id="box-s",
        name="Small box",
        inner_mm=(250, 180, 120),
        outer_mm=(256, 186, 132),
        tare_grams=150,
        material_kg=0.14,
        max_load_grams=10_000,
        cost=Decimal("0.45"),
        recycled_cost=Decimal("0.49"),
    ),
    BoxSpec(
        id="box-m",
        name="Medium box",
        inner_mm=(380, 290, 150),
        outer_mm=(386, 296, 162),
        tare_grams=330,
        material_kg=0.315,
        max_load_grams=15_000,
        cost=Decimal("0.80"),
        recycled_cost=Decimal("0.87"),
    ),
    BoxSpec(
        id="box-l",
        name="Large box",
        inner_mm=(450, 350, 250),
        outer_mm=(456, 356, 262),
        tare_grams=530,
        material_kg=0.51,
        max_load_grams=20_000,
        cost=Decimal("1.20"),
        recycled_cost=Decimal("1.31"),
    ),
    BoxSpec(
        id="box-xl",
        name="Extra-large box (double wall)",
        inner_mm=(600, 400, 400),
        outer_mm=(606, 406, 412),
        tare_grams=1250,
        material_kg=1.22,
        max_load_grams=25_000,
        cost=Decimal("2.10"),
        recycled_cost=Decimal("2.30"),
    ),
)


class StandardPackagingSettings(PluginSettings):
    currency: CurrencyCode = "EUR"
    """Currency of every ``cost`` in the catalogue and of ``void_fill_cost_per_kg``."""
    boxes: tuple[BoxSpec, ...] = Field(default=DEFAULT_BOXES, min_length=1)
    fill_factor: float = Field(default=0.85, gt=0, le=1)
    """Share of a box's inner volume the items may take; the rest is for protection."""
    void_fill_kg_per_m3: float = Field(default=10.0, ge=0)
    """Crumpled kraft paper per m3 of empty space. An assumption (about 10 kg/m3 for 50-70 g/m2
    paper loosely crumpled): weigh a few packed boxes and set yours."""
    void_fill_cost_per_kg: Decimal = Field(default=Decimal("2.50"), ge=0)

    @model_validator(mode="after")
    def _unique_ids(self) -> StandardPackagingSettings:
        ids = [b.id for b in self.boxes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"boxes: duplicate id(s) {', '.join(duplicates)}")
        return self
