"""What a plugin author subclasses: a plugin is an object with hook methods, built from settings.

    class MyCarrier(HubPlugin[MyCarrierSettings]):
        family = Family.CARRIERS
        name = "mycarrier"
        settings_model = MyCarrierSettings

        @hookimpl
        async def carrier_quote(self, request: RateRequest) -> list[Quote]: ...

Register it in your package's ``pyproject.toml``::

    [project.entry-points."hub.plugins"]
    "carriers.mycarrier" = "my_package:MyCarrier"
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict


class Family(StrEnum):
    """Plugin families, in order-lifecycle order."""

    MARKETPLACES = "marketplaces"
    WAREHOUSES = "warehouses"
    PACKAGING = "packaging"
    INSERTS = "inserts"
    CARRIERS = "carriers"
    NOTIFIERS = "notifiers"


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL")
    return value


HttpsUrl = Annotated[str, AfterValidator(_https_url)]
"""A URL secrets travel to or from (an API, the hub's public webhook address): https, with a
host. For plugin settings."""


class PluginSettings(BaseModel):
    """Base for a plugin's settings: unknown keys are an error, so typos stop start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


@dataclass(frozen=True)
class PluginRuntime:
    """What the hub hands every plugin besides its settings."""

    data_dir: Path
    """Where plugins keep state; use :meth:`plugin_dir` for a plugin's own subdirectory."""
    config_dir: Path
    """The directory of the hub's configuration file (for data files such as catalog.toml)."""

    def plugin_dir(self, family: str, name: str) -> Path:
        path = self.data_dir / family / name
        path.mkdir(parents=True, exist_ok=True)
        return path


SettingsT = TypeVar("SettingsT", bound=PluginSettings)


class HubPlugin(Generic[SettingsT]):
    family: ClassVar[Family]
    name: ClassVar[str]
    settings_model: ClassVar[type[PluginSettings]] = PluginSettings
    capabilities: frozenset[str] = frozenset()
    """Optional abilities the hub can rely on, e.g. carriers: "idempotency_key", "label_lookup".
    A class attribute; an instance may narrow it when a setting turns an ability off."""

    def __init__(self, settings: SettingsT, runtime: PluginRuntime) -> None:
        self.settings = settings
        self.runtime = runtime

    @property
    def state_dir(self) -> Path:
        return self.runtime.plugin_dir(self.family.value, self.name)

    async def aclose(self) -> None:
        """Release connections and files. Called once when the worker stops."""
