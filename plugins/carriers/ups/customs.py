"""Customs data for cross-border shipments and its UPS shape (pure).

The declaration follows karrio's customs model (commodities with description, HS code, origin,
quantity and value, plus incoterm and reason); the UPS shape is Shipping.yaml
``ShipmentServiceOptions.InternationalForms`` with ``FormType 01`` (commercial invoice),
``Product[]`` (``Description``, ``Unit{Number, UnitOfMeasurement, Value}``, ``CommodityCode``,
``OriginCountryCode``, ``PartNumber``), ``TermsOfShipment`` (incoterm), ``ReasonForExport``,
``CurrencyCode``, the ``Contacts.SoldTo`` party and ``FreightCharges`` ("Cost to transport
the shipment ... Required for Invoice forms"): what the buyer paid for shipping, else 0.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.domain.address import Address, Contact, CountryCode
from hub.domain.customs import ContentsType, Customs
from hub.domain.messages import LabelRequest
from hub.domain.money import CurrencyCode
from plugins.carriers.ups.settings import CustomsDefaults, ExportReason, Incoterm

PIECES = "PCS"
"""Product unit of measure: pieces (Shipping.yaml Appendix, Product Unit of Measure Codes)."""


class Commodity(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str = Field(min_length=1, max_length=35)
    hs_code: str | None = None
    origin_country: CountryCode
    quantity: int = Field(gt=0)
    unit_value: Decimal = Field(gt=0)
    currency: CurrencyCode
    part_number: str = Field(min_length=1, max_length=35)


class CustomsDeclaration(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str = Field(min_length=1, max_length=35)
    commodities: tuple[Commodity, ...] = Field(min_length=1)
    incoterm: Incoterm = "DAP"
    reason_for_export: ExportReason = "SALE"
    freight: Decimal = Field(default=Decimal(0), ge=0)
    """What the buyer paid for transport, in the invoice's currency."""

    @model_validator(mode="after")
    def _one_currency(self) -> CustomsDeclaration:
        # InternationalForms.CurrencyCode covers every monetary value of the invoice.
        if len({line.currency for line in self.commodities}) > 1:
            raise ValueError("all commodities must be valued in one currency")
        return self

    @property
    def currency(self) -> str:
        return self.commodities[0].currency

    @property
    def contents(self) -> str:
        return self.commodities[0].description


EXPORT_REASONS: dict[ContentsType, ExportReason] = {
    ContentsType.MERCHANDISE: "SALE",
    ContentsType.GIFT: "GIFT",
    ContentsType.SAMPLE: "SAMPLE",
    ContentsType.RETURNED_GOODS: "RETURN",
    ContentsType.DOCUMENTS: "SALE",
}
UPS_INCOTERMS = frozenset(get_args(Incoterm))


def declaration_from_request(request: LabelRequest, customs: Customs) -> CustomsDeclaration:
    """The hub's per-item declaration (HS code, origin, value of every line) in UPS's terms."""
    if customs.incoterm.value not in UPS_INCOTERMS:
        raise ValueError(f"UPS does not accept the incoterm {customs.incoterm.value}")
    return CustomsDeclaration(
        invoice_number=(customs.invoice_number or request.shipment_id)[:35],
        commodities=tuple(
            Commodity(
                description=item.description[:35],
                hs_code=item.hs_code,
                origin_country=item.origin_country,
                quantity=item.quantity,
                unit_value=item.unit_value.amount,
                currency=item.unit_value.currency,
                part_number=item.sku[:35],
            )
            for item in customs.items
        ),
        incoterm=cast(Incoterm, customs.incoterm.value),
        reason_for_export=EXPORT_REASONS[customs.contents],
        freight=customs.shipping_charges.amount if customs.shipping_charges else Decimal(0),
    )


def declaration_from_defaults(
    request: LabelRequest, defaults: CustomsDefaults
) -> CustomsDeclaration:
    """One line for the whole parcel at its declared value, from settings: for callers that
    send no per-item declaration."""
    line = Commodity(
        description=defaults.contents,
        hs_code=defaults.hs_code,
        origin_country=defaults.origin_country,
        quantity=1,
        unit_value=request.declared_value.amount,
        currency=request.declared_value.currency,
        part_number=request.shipment_id[:35],
    )
    return CustomsDeclaration(
        invoice_number=request.shipment_id[:35],
        commodities=(line,),
        incoterm=defaults.incoterm,
        reason_for_export=defaults.reason_for_export,
    )


def international_forms(
    declaration: CustomsDeclaration,
    *,
    sold_to: Address,
    contact: Contact,
    phone: str | None,
    address_block: dict[str, Any],
    invoice_date: datetime,
) -> dict[str, Any]:
    sold = {
        "Name": (sold_to.company or sold_to.name)[:35],
        "AttentionName": contact.name[:35],
        "Address": address_block,
    }
    if phone:
        sold["Phone"] = {"Number": phone}
    return {
        "FormType": ["01"],
        "InvoiceNumber": declaration.invoice_number,
        "InvoiceDate": invoice_date.strftime("%Y%m%d"),
        "TermsOfShipment": declaration.incoterm,
        "ReasonForExport": declaration.reason_for_export,
        "CurrencyCode": declaration.currency,
        "Contacts": {"SoldTo": sold},
        "Product": [_product(line) for line in declaration.commodities],
        "FreightCharges": {"MonetaryValue": _amount(declaration.freight)},
    }


def _product(line: Commodity) -> dict[str, Any]:
    product: dict[str, Any] = {
        "Description": [line.description],
        "Unit": {
            "Number": str(line.quantity),
            "UnitOfMeasurement": {"Code": PIECES},
            "Value": _amount(line.unit_value),
        },
        "OriginCountryCode": line.origin_country,
        "PartNumber": line.part_number,
    }
    if line.hs_code:
        product["CommodityCode"] = line.hs_code
    return product


def _amount(value: Decimal) -> str:
    # Product.Unit.Value: up to 6 decimals, 19 characters.
    return format(value.quantize(Decimal("0.01")), "f")
