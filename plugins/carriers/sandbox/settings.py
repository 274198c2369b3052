"""Settings of the sandbox carrier: ``[carriers.sandbox]`` in ``config/hub.toml``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from hub.plugin import PluginSettings

# Only for a hub on one machine: set HUB_CARRIERS__SANDBOX__WEBHOOK_SECRET anywhere shared.
DEV_WEBHOOK_SECRET = "sandbox-carrier-dev-secret"  # noqa: S105 (a published dev default)


class SandboxCarrierSettings(PluginSettings):
    clock_speed: float = Field(default=20000.0, ge=1.0, le=1e9)
    """Simulated seconds per real second. A simulated day lasts ``86400 / clock_speed`` real
    seconds (4.32 s at the default), so a 2-day parcel is delivered in under 9 real seconds.
    Every simulated day is a working day: transit days are counted without weekends. A label
    keeps the clock it was bought under, so changing this never moves a parcel backwards."""
    webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    """Key of the HMAC-SHA256 signature (header ``x-sandbox-signature``) on tracking pushes."""
    label_latency_seconds: float = Field(default=0.0, ge=0.0)
    """Real seconds ``carrier_buy_label`` waits before answering, after the purchase is recorded
    (or an earlier one found): lets crash tests kill a worker while the carrier has charged
    but not yet replied."""
    honour_idempotency_key: bool = True
    """Off, the sandbox behaves like a carrier without idempotency keys (UPS, DHL): a repeated
    purchase buys a second label, and only a lookup by shipment reference finds the first."""
    label_lookup: bool = True
    """Off (with ``honour_idempotency_key`` off too), the sandbox behaves like a carrier that
    can neither dedupe nor find a label by reference (DHL Parcel DE, UPS): after a lost answer
    only a person can tell whether a label exists."""
    delay_rate: float = Field(default=0.08, ge=0.0, le=1.0)
    """Share of parcels held up by a weather delay (chosen by hashing the tracking number)."""
    failed_attempt_rate: float = Field(default=0.04, ge=0.0, le=1.0)
    """Share of parcels whose first delivery attempt fails; delivered the next day."""
    database: str = "carrier.sqlite3"
    """File name of the SQLite database inside the plugin's state directory."""
    busy_timeout_ms: int = Field(default=5000, ge=0)
    """How long a writer waits for another process's transaction before giving up (retryable)."""

    @field_validator("database")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if not value or Path(value).name != value or value in {".", ".."}:
            raise ValueError("must be a file name, without directories")
        return value

    @model_validator(mode="after")
    def _rates_fit(self) -> SandboxCarrierSettings:
        if self.delay_rate + self.failed_attempt_rate > 1.0:
            raise ValueError("delay_rate + failed_attempt_rate must not exceed 1")
        return self
