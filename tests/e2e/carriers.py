"""The hub set up for one real carrier adapter as its only carrier: a warehouse in the
carrier's country stocked with the default catalogue, and the adapter's test credentials."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.e2e.catalog import catalog_file
from tests.integration.test_durability import VALID_ONLY
from tests.plugins import test_dhl as dhl

BROOKLYN = (
    'address = { name = "Hub Fulfilment", company = "Hub Fulfilment LLC", '
    'line1 = "55 Water St", city = "Brooklyn", region = "NY", postal_code = "11201", '
    'country = "US" }'
)
BERLIN = (
    'address = { name = "Versand", company = "Hub Fulfilment GmbH", '
    'line1 = "Lagerstrasse 5", city = "Berlin", postal_code = "10115", country = "DE" }'
)
UPS = {
    "client_id": "hub-test-client-id",
    "client_secret": "not-a-real-secret",
    "account_number": "222006",
    "carbon_neutral": "off",
}
USPS = {
    "client_id": "hub-test-consumer-key",
    "client_secret": "hub-test-consumer-secret",
    "crid": "56982563",
    "mid": "902345678",
    "account_number": "1000405525",
}
DHL = {
    "api_key": "hub-test-api-key",
    "api_secret": "hub-test-api-secret",
    "username": "user-valid",
    "password": "hub-test-gkp-password",
    "ekp": "3333333333",
    "prices": dhl.PRICES,
    "requests_per_second": 1000,
    "tracking_requests_per_second": 1000,
}


def only_carrier(
    hub_settings: Any,
    tmp_path: Path,
    carrier: str,
    adapter: dict[str, Any],
    warehouse_address: str,
    **overrides: Any,
) -> Any:
    """Hub settings with `carrier` (configured as `adapter`) as the only carrier."""
    products = tomllib.loads((ROOT / "config" / "catalog.toml").read_text())["products"]
    skus = [p["sku"] for p in products]
    catalog = catalog_file(tmp_path, skus, warehouse_address=warehouse_address)
    return hub_settings(
        **VALID_ONLY,
        warehouses={"embedded": {"catalog_file": str(catalog)}},
        carriers={carrier: adapter, "sandbox": {"enabled": False}},
        **overrides,
    )
