"""Settings of the USPS adapter: ``[carriers.usps]`` in ``config/hub.toml``.

Credentials come from the USPS Developer Portal (developers.usps.com, "Add App": consumer key
and secret) and the Business Customer Gateway (CRID, MIDs, the EPS account or permit that pays
for labels). The default base URL is USPS's Testing Environment for Mailers (TEM); production
is ``https://apis.usps.com``. Field names of the payment roles follow Payments 3.0 (``Role``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from hub.domain.shipment import LabelFormat
from hub.plugin import HttpsUrl, PluginSettings
from plugins.carriers.usps.services import MailClass

_MID = r"^(\d{6}|\d{9})$"
"""Payments 3.0 ``MID`` / ``ManifestMID``: six or nine digits."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_WEBHOOK_SECRET = 32
"""Subscriptions - Tracking refuses a ``secret`` shorter than 32 characters."""


class UspsSettings(PluginSettings):
    client_id: str = Field(min_length=1)
    """The app's consumer key."""
    client_secret: SecretStr
    """The app's consumer secret."""
    base_url: str = "https://apis-tem.usps.com"

    crid: str = Field(pattern=r"^\d{2,18}$")
    """Customer Registration ID of the business paying for and owning the labels."""
    mid: str = Field(pattern=_MID)
    """Mailer ID of the label owner (its label ranges make the tracking numbers)."""
    manifest_mid: str | None = Field(default=None, pattern=_MID)
    """Mailer ID for the manifest (Shipping Services File); unset: the same as ``mid``."""
    account_type: Literal["EPS", "PERMIT"] = "EPS"
    """How labels are paid: an Enterprise Payment System account or a permit."""
    account_number: str | None = Field(default=None, pattern=r"^\d+$")
    """The EPS account number (``account_type = "EPS"``)."""
    permit_number: str | None = Field(default=None, pattern=r"^\d+$")
    permit_zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    """Permit number and its ZIP Code (``account_type = "PERMIT"``)."""

    price_type: Literal["RETAIL", "COMMERCIAL", "CONTRACT"] = "COMMERCIAL"
    """Domestic Prices ``priceType``; with an account number USPS returns contract rates
    where the account has them."""
    mail_classes: tuple[MailClass, ...] = Field(
        default=("USPS_GROUND_ADVANTAGE", "PRIORITY_MAIL", "PRIORITY_MAIL_EXPRESS"), min_length=1
    )
    """The services quoted, as USPS mail classes."""

    label_format: LabelFormat | None = None
    """Force one label format for every label (e.g. ZPL for thermal printers); unset: the
    format the hub asks for."""
    zpl_resolution: Literal["ZPL203DPI", "ZPL300DPI"] = "ZPL203DPI"
    """The ``imageType`` used for ZPL labels: match the printer's resolution."""
    label_size: Literal["4X6LABEL", "4X5LABEL", "4X4LABEL", "6X4LABEL"] = "4X6LABEL"
    """Labels ``labelType`` (2x7 is left out: USPS cannot render it as ZPL)."""

    tracking_webhook_url: HttpsUrl | None = None
    """The hub's public ``/webhooks/carriers/usps`` URL (https). Set, the label owner's MID is
    subscribed once (Subscriptions - Tracking) and USPS pushes every tracking update there,
    signed with ``tracking_webhook_secret``; the hub still polls, at its usual pace."""
    tracking_webhook_secret: SecretStr | None = None
    """At least 32 characters; USPS signs each push with it (``X-HMAC``)."""
    tracking_webhook_email: str | None = None
    """Who USPS tells when it suspends or deletes the subscription (``adminNotification``)."""

    requests_per_hour: int = Field(default=60, gt=0)
    """The app's USPS quota (all APIs, token calls included). New apps get about 60 an hour;
    raise it here once USPS has raised the app's quota."""

    @model_validator(mode="after")
    def _payment_account(self) -> UspsSettings:
        if self.account_type == "EPS" and not self.account_number:
            raise ValueError("account_number is required when account_type is EPS")
        if self.account_type == "PERMIT" and not (self.permit_number and self.permit_zip):
            raise ValueError(
                "permit_number and permit_zip are required when account_type is PERMIT"
            )
        return self

    @field_validator("tracking_webhook_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_WEBHOOK_SECRET:
            raise ValueError(f"USPS needs a secret of at least {MIN_WEBHOOK_SECRET} characters")
        return value

    @field_validator("tracking_webhook_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value):
            raise ValueError("not an e-mail address")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> UspsSettings:
        if self.tracking_webhook_url and not (
            self.tracking_webhook_secret and self.tracking_webhook_email
        ):
            raise ValueError(
                "tracking_webhook_url needs tracking_webhook_secret and tracking_webhook_email"
            )
        return self

    @property
    def pricing_account_number(self) -> str | None:
        """The number Domestic Prices takes as ``accountNumber`` (EPS account or permit)."""
        return self.account_number if self.account_type == "EPS" else self.permit_number
