"""UPS carrier adapter: OAuth client credentials, Rating (Shop), Shipping (ship/void), Tracking.

Written against UPS's official OpenAPI specs, github.com/UPS-API/api-documentation (MIT),
commit e6f36df4 (July 2026): OAuthClientCredentials.yaml, Rating.yaml (v2409),
Shipping.yaml (v2409), Tracking.yaml (v1); each module names the operations it follows.

What the adapter decides for the hub:
- Rates: one ``Shop``/``Shoptimeintransit`` call in kg/cm (lb/in for US and PR origins); the
  negotiated total is the price when UPS returns one. UPS carbon neutral is a shipment option
  (``UPScarbonneutralIndicator``), so with ``carbon_neutral = "offer"`` the services are rated
  a second time with it and come back as eco quotes whose service code ends in ``-CN``; buying
  such a code, or a label whose ``eco_option`` is ``carbon_neutral``, sets the indicator.
- Labels: one Ship call per shipment, one ``Package`` per parcel, the shipment id as reference
  number and a digest of the idempotency key as ``transId``. UPS renders GIF or ZPL: PDF and
  PNG labels are converted from the GIF. A transport failure after sending, or a 5xx other
  than 503, raises ``AmbiguousOutcomeError``.
- Customs: outside the EU customs union a commercial invoice (``InternationalForms``) is sent.
  The hub's ``LabelRequest`` carries no items, so the declaration is one line at the declared
  value, described by ``[carriers.ups.customs]``.
- No ``label_lookup`` capability: see :class:`UpsCarrier`.
"""

from plugins.carriers.ups.plugin import UpsCarrier
from plugins.carriers.ups.settings import CustomsDefaults, UpsSettings

__all__ = ["CustomsDefaults", "UpsCarrier", "UpsSettings"]
