"""The carrier contract suite. A carrier plugin is done when a subclass of `CarrierContract`
with its fixtures passes:

    class TestMyCarrierContract(CarrierContract):
        @pytest.fixture
        def plugin(self, respx_mock): ...          # the configured plugin, remote API mocked
        @pytest.fixture
        def rate_request(self): ...                # optional: defaults to a DE -> DE parcel
        @pytest.fixture
        def label_request(self, rate_request): ... # optional
        @pytest.fixture
        def parcel_counts(self): ...               # optional: (1, 2)

Carriers declaring the "idempotency_key" or "label_lookup" capability are held to them. Every
quote is held to what it promises: each label format it names, with and without each of its eco
options, for each of `parcel_counts` parcels, is a label (the hub chooses by these promises, so
a chosen quote must never fail at label time). Fake the API faithfully: answer what is asked
(format, number of parcels), so a refusal the quote did not announce fails the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.domain.address import Address, Contact
from hub.domain.messages import LabelLookup, LabelRequest, RateRequest, TrackRequest, VoidRequest
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, LabelFormat, Parcel
from hub.domain.tracking import TrackingStatus
from hub.plugin import Family, HubPlugin
from tests.contract.common import PluginContract, host_for

MAGIC = {LabelFormat.PDF: b"%PDF", LabelFormat.ZPL: b"^XA", LabelFormat.PNG: b"\x89PNG"}


def default_rate_request(origin: str = "DE", destination: str = "DE") -> RateRequest:
    sender = Address(
        name="Hub Fulfilment GmbH",
        line1="Lagerstrasse 5",
        city="Berlin",
        postal_code="10115",
        country=origin,
    )
    recipient = Address(
        name="Erika Mustermann",
        line1="Heidestrasse 17",
        city="Koeln",
        postal_code="51147",
        country=destination,
    )
    return RateRequest(
        shipment_id="S-1001-1",
        ship_from=sender,
        ship_to=recipient,
        parcels=(
            Parcel(
                weight_grams=1200, dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=100)
            ),
        ),
        service_level="standard",
        ship_date=datetime.now(UTC),
        declared_value=Money(amount=Decimal("49.90"), currency="EUR"),
    )


class CarrierContract(PluginContract):
    @pytest.fixture
    def rate_request(self) -> RateRequest:
        return default_rate_request()

    @pytest.fixture
    def label_format(self) -> LabelFormat:
        return LabelFormat.PDF

    @pytest.fixture
    def parcel_counts(self) -> tuple[int, ...]:
        """How many parcels (copies of the rate request's first) every quote is checked for."""
        return (1, 2)

    @pytest.fixture
    async def service_code(self, plugin: HubPlugin[Any], rate_request: RateRequest) -> str:
        quotes = await host_for(plugin).quote(plugin.name, rate_request)
        return quotes[0].service_code

    @pytest.fixture
    def label_request(
        self, rate_request: RateRequest, service_code: str, label_format: LabelFormat
    ) -> LabelRequest:
        return LabelRequest(
            idempotency_key="label:order:contract:1001:S-1001-1",
            shipment_id=rate_request.shipment_id,
            order_reference="contract:1001",
            service_code=service_code,
            ship_from=rate_request.ship_from,
            ship_to=rate_request.ship_to,
            recipient=Contact(
                name="Erika Mustermann", email="erika@example.com", phone="+49 221 1234567"
            ),
            parcels=rate_request.parcels,
            label_format=label_format,
            declared_value=rate_request.declared_value,
            ship_date=rate_request.ship_date,
        )

    def test_is_a_carrier(self, plugin: HubPlugin[Any]) -> None:
        assert plugin.family is Family.CARRIERS
        assert plugin.capabilities <= {"idempotency_key", "label_lookup"}

    async def test_quotes_are_priced_and_named(
        self, plugin: HubPlugin[Any], rate_request: RateRequest
    ) -> None:
        quotes = await host_for(plugin).quote(plugin.name, rate_request)
        assert quotes
        for quote in quotes:
            assert quote.carrier == plugin.name
            assert quote.service_code and quote.service_name
            assert quote.price.amount > 0
            assert quote.billable_weight_grams >= min(p.weight_grams for p in rate_request.parcels)

    async def test_every_quote_can_be_bought_as_it_promises(
        self,
        plugin: HubPlugin[Any],
        rate_request: RateRequest,
        label_request: LabelRequest,
        parcel_counts: tuple[int, ...],
    ) -> None:
        host = host_for(plugin)
        for count in parcel_counts:
            parcels = (rate_request.parcels[0],) * count
            quotes = await host.quote(
                plugin.name, rate_request.model_copy(update={"parcels": parcels})
            )
            assert quotes, f"no quote for {count} parcel(s)"
            for quote in quotes:
                assert quote.label_formats, f"{quote.service_code}: the quote names no label format"
                for fmt in quote.label_formats:
                    for eco in (None, *quote.eco_options):
                        what = f"{count} parcel(s), {quote.service_code}, {fmt.value}, eco {eco}"
                        request = label_request.model_copy(
                            update={
                                "idempotency_key": f"{label_request.idempotency_key}:{count}:"
                                f"{quote.service_code}:{fmt.value}:{eco or '-'}",
                                "service_code": quote.service_code,
                                "parcels": parcels,
                                "label_format": fmt,
                                "eco_option": eco,
                            }
                        )
                        label = await host.buy_label(plugin.name, request)
                        assert label.document.label_format is fmt, what
                        assert label.document.content.startswith(MAGIC[fmt]), what
                        assert len(label.tracking_numbers) == count, what

    async def test_label_has_tracking_and_document(
        self, plugin: HubPlugin[Any], label_request: LabelRequest
    ) -> None:
        label = await host_for(plugin).buy_label(plugin.name, label_request)
        assert label.tracking_numbers and all(label.tracking_numbers)
        assert label.document.label_format is label_request.label_format
        assert label.document.content.startswith(MAGIC[label_request.label_format])
        assert label.price.amount >= 0

    async def test_declared_capabilities_hold(
        self, plugin: HubPlugin[Any], label_request: LabelRequest
    ) -> None:
        host = host_for(plugin)
        first = await host.buy_label(plugin.name, label_request)
        if "idempotency_key" in plugin.capabilities:
            again = await host.buy_label(plugin.name, label_request)
            assert again.tracking_numbers == first.tracking_numbers
        if "label_lookup" in plugin.capabilities:
            found = await host.find_label(
                plugin.name,
                LabelLookup(
                    idempotency_key=label_request.idempotency_key,
                    shipment_id=label_request.shipment_id,
                ),
            )
            assert found is not None and found.tracking_numbers == first.tracking_numbers

    async def test_void_and_track(
        self, plugin: HubPlugin[Any], label_request: LabelRequest
    ) -> None:
        host = host_for(plugin)
        label = await host.buy_label(plugin.name, label_request)
        update = await host.track(
            plugin.name, TrackRequest(tracking_number=label.tracking_numbers[0])
        )
        for event in update.events:
            assert event.tracking_number == label.tracking_numbers[0]
            assert isinstance(event.status, TrackingStatus) and event.carrier_code
        result = await host.void_label(
            plugin.name,
            VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers),
        )
        assert result.voided or result.message
