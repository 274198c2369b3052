"""Standard packaging: cartonization over a box catalogue, with CO2e per option."""

from plugins.packaging.standard.plugin import StandardPackaging
from plugins.packaging.standard.settings import BoxKind, BoxSpec, StandardPackagingSettings

__all__ = ["BoxKind", "BoxSpec", "StandardPackaging", "StandardPackagingSettings"]
