"""Standard inserts: which printed cards and flyers go into an order's parcel, by rule."""

from plugins.inserts.standard.plugin import StandardInserts
from plugins.inserts.standard.settings import StandardInsertsSettings

__all__ = ["StandardInserts", "StandardInsertsSettings"]
