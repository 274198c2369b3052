"""USPS carrier: domestic rates (Domestic Prices 3.0), labels with ``X-Idempotency-Key``
(Labels 3.0, paid through a Payments 3.0 authorization token), voids and tracking
(Tracking 3.0), over the USPS APIs v3 at apis.usps.com."""

from plugins.carriers.usps.plugin import UspsCarrier
from plugins.carriers.usps.settings import UspsSettings

__all__ = ["UspsCarrier", "UspsSettings"]
