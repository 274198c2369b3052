"""PostNord carrier: bookings with PDF/ZPL labels through the EDI Booking API (v3), voids by
EDI Deletion (PostNord Sweden agreements), tracking through Track & Trace, quotes from the
agreement's price list with optional Transit Time estimates; at developer.postnord.com."""

from plugins.carriers.postnord.plugin import PostnordCarrier
from plugins.carriers.postnord.settings import PostnordSettings

__all__ = ["PostnordCarrier", "PostnordSettings"]
