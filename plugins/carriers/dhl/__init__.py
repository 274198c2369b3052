"""DHL carrier: DHL Paket (Post & Parcel Germany) through the Parcel DE Shipping API v2 -
dry-run checked quotes from the account's price list (Parcel DE has no rating endpoint),
labels (PDF or ZPL2, one shipment number per parcel, GoGreen Plus, customs for parcels leaving
the EU), deletions - and tracking through DHL's Shipment Tracking - Unified API."""

from plugins.carriers.dhl.plugin import DhlCarrier
from plugins.carriers.dhl.settings import DhlSettings

__all__ = ["DhlCarrier", "DhlSettings"]
