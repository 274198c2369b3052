"""Hub configuration: `config/hub.toml`, overridden by `HUB_...` environment variables.

Nested keys use a double underscore: `HUB_TEMPORAL__ADDRESS=temporal:7233`,
`HUB_CARRIERS__UPS__CLIENT_SECRET=...`. The file is chosen by `HUB_CONFIG` (default:
`config/hub.toml` in the working directory, else the one shipped next to the package).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.domain.carrier_choice import CarrierRules
from hub.domain.customs import ContentsType, Incoterm
from hub.domain.shipment import LabelFormat
from hub.errors import ConfigError, one_line
from hub.workflows.policy import OrderPolicy
from hub.workflows.polling_contracts import PollerConfig

_PACKAGED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "hub.toml"


_profile: ContextVar[str | None] = ContextVar("hub_config_profile", default=None)


def use_profile(name: str) -> None:
    """Prefer `config/<name>.toml` over `hub.toml` (HUB_CONFIG still wins). Used by `hub demo`."""
    _profile.set(name)


def config_path() -> Path:
    explicit = os.environ.get("HUB_CONFIG")
    if explicit:
        return Path(explicit)
    filename = f"{_profile.get() or 'hub'}.toml"
    local = Path("config") / filename
    return local if local.exists() else _PACKAGED_CONFIG.with_name(filename)


class TemporalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = "hub-orders"
    api_key: SecretStr | None = None
    tls: bool = False
    ui_port: int = 8233
    dev_db_filename: str = "temporal-dev.sqlite"
    """Relative to data_dir; where `hub dev` keeps the dev server's history."""


class PackingRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefer: Literal["lowest_co2e", "cheapest"] = "lowest_co2e"
    """Among the packaging options offered (minimal ones only if the customer opted in)."""


class IntakeSettings(BaseModel):
    """Where `hub intake` (and `hub dev`) serve the webhook endpoints."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class LabelSettings(BaseModel):
    """``[labels]``: what the packing station prints."""

    model_config = ConfigDict(extra="forbid")

    format: LabelFormat = LabelFormat.PDF
    """PDF for office printers, ZPL for thermal label printers (Zebra and compatibles)."""


class CustomsSettings(BaseModel):
    """``[customs]``: how cross-border parcels are declared."""

    model_config = ConfigDict(extra="forbid")

    incoterm: Incoterm = Incoterm.DAP
    """DAP: the recipient pays import duties; DDP: the seller does (needs a carrier account
    that supports it)."""
    contents: ContentsType = ContentsType.MERCHANDISE


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_activities: int = 50
    max_concurrent_workflow_tasks: int = 50


class PollingSettings(PollerConfig):
    """``[polling]``: one poller workflow per enabled marketplace and account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    accounts: dict[str, list[str]] = Field(default_factory=dict)
    """Marketplace -> accounts to poll (absent: the account the plugin's settings name)."""

    def schedule(self) -> PollerConfig:
        return PollerConfig(**self.model_dump(include=set(PollerConfig.model_fields)))


PluginSections = dict[str, dict[str, Any]]


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Path(".hub")
    temporal: TemporalSettings = TemporalSettings()
    worker: WorkerSettings = WorkerSettings()
    intake: IntakeSettings = IntakeSettings()
    orders: OrderPolicy = OrderPolicy()
    carrier_choice: CarrierRules = CarrierRules()
    packing: PackingRules = PackingRules()
    customs: CustomsSettings = CustomsSettings()
    labels: LabelSettings = LabelSettings()
    polling: PollingSettings = PollingSettings()
    marketplaces: PluginSections = Field(default_factory=dict)
    warehouses: PluginSections = Field(default_factory=dict)
    packaging: PluginSections = Field(default_factory=dict)
    inserts: PluginSections = Field(default_factory=dict)
    carriers: PluginSections = Field(default_factory=dict)
    notifiers: PluginSections = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_path())
        return (init_settings, env_settings, toml, file_secret_settings)

    def plugin_sections(self) -> dict[str, PluginSections]:
        return {
            "marketplaces": self.marketplaces,
            "warehouses": self.warehouses,
            "packaging": self.packaging,
            "inserts": self.inserts,
            "carriers": self.carriers,
            "notifiers": self.notifiers,
        }


def load_settings(**overrides: Any) -> HubSettings:
    """Read the settings or raise ConfigError with one line saying which setting and why."""
    path = config_path()
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist (set HUB_CONFIG)")
    try:
        return HubSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {one_line(exc)}") from None
