"""Hub configuration: `config/hub.toml`, overridden by `HUB_...` environment variables.

Nested keys use a double underscore: `HUB_TEMPORAL__ADDRESS=temporal:7233`,
`HUB_CARRIERS__UPS__CLIENT_SECRET=...`. The file is chosen by `HUB_CONFIG` (default:
`config/hub.toml` in the working directory, else the one shipped next to the package).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.domain.address import Address
from hub.errors import ConfigError
from hub.workflows.policy import OrderPolicy

_PACKAGED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "hub.toml"


def config_path() -> Path:
    explicit = os.environ.get("HUB_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("config/hub.toml")
    return local if local.exists() else _PACKAGED_CONFIG


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


class CarrierRules(BaseModel):
    """How the hub picks a carrier service among the quotes of every enabled carrier."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["cheapest", "fastest", "greenest"] = "cheapest"
    must_meet_deliver_by: bool = True
    """Drop quotes whose estimated delivery is after the order's deliver-by date (if any remain)."""
    prefer_eco_within_percent: float = Field(default=0.0, ge=0)
    """Take a quote with eco options if it costs at most this much more than the best one."""
    exclude: dict[str, list[str]] = Field(default_factory=dict)
    """Destination country (ISO alpha-2) -> carriers never used there."""
    service_levels: dict[str, list[str]] = Field(default_factory=dict)
    """Order service level -> allowed carrier service codes (empty: any)."""


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_activities: int = 50
    max_concurrent_workflow_tasks: int = 50


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
    orders: OrderPolicy = OrderPolicy()
    carrier_choice: CarrierRules = CarrierRules()
    return_address: Address | None = None
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


def one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
