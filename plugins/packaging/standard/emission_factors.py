"""Cradle-to-gate emission factors of packaging materials: the only place they are kept.

Figures in kg CO2e per kg of material, as listed in shared/DOMAIN.md section 5. Change a figure
here and every option's ``co2e_grams`` follows; nothing else in the plugin holds a factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Material(StrEnum):
    CORRUGATED_BOARD = "corrugated_board"
    RECYCLED_BOARD = "recycled_board"
    KRAFT_PAPER = "kraft_paper"
    LDPE = "ldpe"
    RECYCLED_PLASTIC = "recycled_plastic"


# Average European corrugated board, FEFCO "The carbon footprint of corrugated packaging 2021"
# (European Database for Corrugated Board Life Cycle Studies 2021): 491 kg CO2e/t, down from
# 531-538 kg/t in the 2018 edition. That average already has 88 % recycled fibre.
CORRUGATED_BOARD = 0.491

# Board from 100 % recycled fibre. No published figure on FEFCO's basis is sourced yet, so this
# one is DERIVED: the review by Brogaard et al. 2014 (Resources, Conservation and Recycling
# 87:30-45; as summarised by consumerecology.com) finds means of 1.14 kg CO2e/kg for board
# from primary fibre and 0.82 for board from recycled fibre. Moving FEFCO's 88 % recycled mix
# to 100 % scales 0.491 by 0.82 / (0.88 x 0.82 + 0.12 x 1.14) = 0.955. Replace it with the
# supplier's EPD figure when one is known.
RECYCLED_BOARD = round(CORRUGATED_BOARD * 0.82 / (0.88 * 0.82 + 0.12 * 1.14), 3)

# Sack kraft paper (void fill, paper mailers), per shared/DOMAIN.md section 5.
KRAFT_PAPER = 0.421

# LDPE resin (poly mailers), per shared/DOMAIN.md section 5; resin only, film blowing excluded.
LDPE = 2.1

# Recycled plastics, "about 1.4" per shared/DOMAIN.md section 5.
RECYCLED_PLASTIC = 1.4

KG_CO2E_PER_KG: Mapping[Material, float] = MappingProxyType(
    {
        Material.CORRUGATED_BOARD: CORRUGATED_BOARD,
        Material.RECYCLED_BOARD: RECYCLED_BOARD,
        Material.KRAFT_PAPER: KRAFT_PAPER,
        Material.LDPE: LDPE,
        Material.RECYCLED_PLASTIC: RECYCLED_PLASTIC,
    }
)

PLASTICS = frozenset({Material.LDPE, Material.RECYCLED_PLASTIC})


def co2e_grams(materials_kg: Mapping[Material, float]) -> int:
    """Grams CO2e of the given masses: sum of kg x factor, in grams, rounded once at the end."""
    return round(sum(kg * KG_CO2E_PER_KG[m] for m, kg in materials_kg.items()) * 1000)
