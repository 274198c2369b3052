"""Plugin loading and the typed facade: start-up errors are one clear line."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.domain.address import Address
from hub.domain.messages import Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, Parcel
from hub.errors import ConfigError, PermanentError
from hub.hookspecs import hookimpl
from hub.host import PluginHost
from hub.plugin import Family, HubPlugin, PluginSettings
from hub.settings import HubSettings

ROOT_DIR = Path(__file__).resolve().parents[2]


class FlakySettings(PluginSettings):
    api_key: SecretStr
    surcharge: Decimal = Decimal(0)


class FakeCarrier(HubPlugin[FlakySettings]):
    family = Family.CARRIERS
    name = "testcarrier"
    settings_model = FlakySettings

    @hookimpl
    async def carrier_quote(self, request: RateRequest) -> list[Quote]:
        return [
            Quote(
                carrier=self.name,
                service_code="x",
                service_name="X",
                price=Money(amount=Decimal(5) + self.settings.surcharge, currency="EUR"),
                estimated_delivery=None,
                billable_weight_grams=1,
            )
        ]


class MisspeltCarrier(HubPlugin[PluginSettings]):
    family = Family.CARRIERS
    name = "misspelt"

    @hookimpl
    def carrier_qoute(self, request: RateRequest) -> list[Quote]:
        return []


@pytest.fixture(autouse=True)
def empty_config(tmp_path, monkeypatch):
    """Only the plugins each test names (pydantic-settings merges init values into the TOML's)."""
    config = tmp_path / "hub.toml"
    config.write_text("")
    monkeypatch.setenv("HUB_CONFIG", str(config))


def settings(tmp_path: Path, carriers: dict) -> HubSettings:
    return HubSettings(data_dir=tmp_path, carriers=carriers)


def request() -> RateRequest:
    addr = Address(name="A", line1="Street 1", city="C", postal_code="12345", country="DE")
    return RateRequest(
        shipment_id="s1",
        ship_from=addr,
        ship_to=addr,
        service_level="standard",
        parcels=(
            Parcel(weight_grams=100, dimensions=Dimensions(length_mm=1, width_mm=1, height_mm=1)),
        ),
        ship_date=datetime(2026, 1, 1, tzinfo=UTC),
        declared_value=Money(amount=Decimal(1), currency="EUR"),
    )


async def test_typed_facade_calls_one_plugin(tmp_path):
    host = PluginHost.from_settings(
        settings(tmp_path, {"testcarrier": {"api_key": "k", "surcharge": "1.5"}}),
        extra_plugins=[FakeCarrier],
    )
    quotes = await host.quote("testcarrier", request())
    assert quotes[0].price.amount == Decimal("6.5")
    assert host.names(Family.CARRIERS) == ["testcarrier"]
    with pytest.raises(PermanentError, match=r"no enabled plugin carriers\.ups"):
        await host.quote("ups", request())
    with pytest.raises(PermanentError, match="does not implement carrier_track"):
        await host.track("testcarrier", None)  # type: ignore[arg-type]


def test_plugin_not_installed(tmp_path):
    with pytest.raises(
        ConfigError, match=r"plugin carriers.nosuch is named in config but not installed"
    ):
        PluginHost.from_settings(settings(tmp_path, {"nosuch": {}}))


def test_bad_plugin_setting_names_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"^carriers.testcarrier.api_key: Field required$"):
        PluginHost.from_settings(
            settings(tmp_path, {"testcarrier": {}}), extra_plugins=[FakeCarrier]
        )
    with pytest.raises(
        ConfigError, match=r"carriers.testcarrier.colour: Extra inputs are not permitted"
    ):
        PluginHost.from_settings(
            settings(tmp_path, {"testcarrier": {"api_key": "k", "colour": "red"}}),
            extra_plugins=[FakeCarrier],
        )


def test_misspelt_hook_stops_startup(tmp_path):
    with pytest.raises(ConfigError, match="carrier_qoute"):
        PluginHost.from_settings(
            settings(tmp_path, {"misspelt": {}}), extra_plugins=[MisspeltCarrier]
        )


def test_disabled_plugin_is_not_registered(tmp_path):
    host = PluginHost.from_settings(
        settings(tmp_path, {"testcarrier": {"api_key": "k", "enabled": False}}),
        extra_plugins=[FakeCarrier],
    )
    assert host.names(Family.CARRIERS) == []


def test_secret_never_shows_in_repr(tmp_path):
    host = PluginHost.from_settings(
        settings(tmp_path, {"testcarrier": {"api_key": "s3cret"}}), extra_plugins=[FakeCarrier]
    )
    plugin = host.plugin(Family.CARRIERS, "testcarrier")
    assert "s3cret" not in repr(plugin.settings)


def test_env_overrides_toml(monkeypatch, tmp_path):
    monkeypatch.setenv("HUB_CONFIG", str(Path(__file__).parents[2] / "config" / "hub.toml"))
    monkeypatch.setenv("HUB_TEMPORAL__ADDRESS", "temporal.example:7233")
    monkeypatch.setenv("HUB_CARRIERS__SANDBOX__CLOCK_SPEED", "5")
    loaded = HubSettings()
    assert loaded.temporal.address == "temporal.example:7233"
    assert loaded.carriers["sandbox"]["clock_speed"] == "5"
    assert loaded.temporal.task_queue == "hub-orders"  # from config/hub.toml


async def test_the_adapter_config_example_is_valid_for_every_plugin(monkeypatch, tmp_path):
    """config/adapters.example.toml plus the secrets from the environment: every real
    adapter starts."""
    example = tomllib.loads((ROOT_DIR / "config" / "adapters.example.toml").read_text())
    secrets = {
        "marketplaces": {
            "shopify": {"access_token": "shpat_x", "client_secret": "s"},
            "amazon": {"refresh_token": "Atzr|x", "lwa_client_secret": "s"},
            "woocommerce": {
                "consumer_key": "ck_x",
                "consumer_secret": "cs_x",
                "webhook_secret": "w",
            },
            "ebay": {"client_secret": "s", "refresh_token": "v^1.1#x"},
        },
        "carriers": {
            "ups": {"client_secret": "s"},
            "usps": {"client_secret": "s"},
            "dhl": {"api_key": "k", "api_secret": "s", "password": "p"},
            "postnord": {"api_key": "0123456789abcdef0123456789abcdef"},
        },
    }
    for family, plugins in secrets.items():
        for name, values in plugins.items():
            example[family][name].update(values)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    monkeypatch.setenv("HUB_CONFIG", str(empty))
    settings = HubSettings(**example, data_dir=tmp_path)
    host = PluginHost.from_settings(settings)
    try:
        assert set(host.names(Family.MARKETPLACES)) == set(secrets["marketplaces"])
        assert set(host.names(Family.CARRIERS)) == set(secrets["carriers"])
    finally:
        await host.aclose()
