"""The parts of UPS's JSON answers the adapter reads, as pydantic models (unknown keys ignored).

Field names are UPS's own so each model reads against the spec:
- Rating.yaml ``RATEResponseWrapper`` (Rate API v2409),
- Shipping.yaml ``SHIPResponseWrapper`` and ``VOIDSHIPMENTResponseWrapper`` (Ship API v2409),
- Tracking.yaml ``TrackApiResponse`` (Track API v1),
- the shared ``ErrorResponse``: ``{"response": {"errors": [{"code", "message"}]}}``,
all from github.com/UPS-API/api-documentation (MIT), commit e6f36df4 (July 2026).

UPS sends every value as a string. Before v2403 a one-element array came back as a bare object;
:data:`ListOf` accepts both shapes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from hub.domain.money import CurrencyCode as Iso4217
from hub.domain.money import Money
from hub.errors import PermanentError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: object, what: str) -> M:
    """Validate a UPS answer; a shape that does not fit raises PermanentError naming the field
    (never the value, which may be personal data)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise PermanentError(f"{what}: unexpected answer at {where}: {first['msg']}") from None


def _as_list(value: object) -> object:
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return value


ListOf = Annotated[list[T], BeforeValidator(_as_list)]

# Bounds from the spec's field sizes; they also keep absurd numbers out of Decimal arithmetic.
MAX_MONEY = Decimal("9999999999999999.99")
MAX_WEIGHT = Decimal(99999)


class _Ups(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --------------------------------------------------------------------------- shared


class AmountModel(_Ups):
    CurrencyCode: Iso4217
    MonetaryValue: Decimal = Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)

    def money(self) -> Money:
        return Money(amount=self.MonetaryValue, currency=self.CurrencyCode)


class CodeDescriptionModel(_Ups):
    Code: str
    Description: str = ""


class UpsError(_Ups):
    code: str = ""
    message: str = ""


class ErrorListModel(_Ups):
    errors: ListOf[UpsError] = []


class ErrorEnvelopeModel(_Ups):
    response: ErrorListModel


class NegotiatedChargesModel(_Ups):
    TotalCharge: AmountModel | None = None


# --------------------------------------------------------------------------- rating


class BillingWeightModel(_Ups):
    UnitOfMeasurement: CodeDescriptionModel
    Weight: Decimal = Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False)


class ArrivalModel(_Ups):
    Date: str
    Time: str | None = None


class EstimatedArrivalModel(_Ups):
    Arrival: ArrivalModel


class ServiceSummaryModel(_Ups):
    EstimatedArrival: EstimatedArrivalModel | None = None


class TimeInTransitModel(_Ups):
    ServiceSummary: ServiceSummaryModel | None = None


class RatedShipmentModel(_Ups):
    Service: CodeDescriptionModel
    BillingWeight: BillingWeightModel
    TotalCharges: AmountModel
    NegotiatedRateCharges: NegotiatedChargesModel | None = None
    TimeInTransit: TimeInTransitModel | None = None


class RateResponseModel(_Ups):
    RatedShipment: ListOf[RatedShipmentModel]


class RateEnvelopeModel(_Ups):
    RateResponse: RateResponseModel


# --------------------------------------------------------------------------- shipping


class ShippingLabelModel(_Ups):
    ImageFormat: CodeDescriptionModel
    GraphicImage: str = Field(min_length=1)


class PackageResultModel(_Ups):
    TrackingNumber: str = Field(min_length=1)
    ShippingLabel: ShippingLabelModel


class ShipmentChargesModel(_Ups):
    TotalCharges: AmountModel


class FormModel(_Ups):
    """``ShipmentResults.Form``: the international forms asked for (``Code`` 01), as one
    Base64 ``Image`` in PDF or PNG."""

    Code: str = ""
    Image: ShippingLabelModel | None = None


class ShipmentResultsModel(_Ups):
    ShipmentIdentificationNumber: str = Field(min_length=1)
    Form: FormModel | None = None
    ShipmentCharges: ShipmentChargesModel | None = None
    NegotiatedRateCharges: NegotiatedChargesModel | None = None
    PackageResults: ListOf[PackageResultModel] = Field(min_length=1)


class ShipmentResponseModel(_Ups):
    ShipmentResults: ShipmentResultsModel


class ShipEnvelopeModel(_Ups):
    ShipmentResponse: ShipmentResponseModel


class VoidStatusModel(_Ups):
    Code: str
    Description: str = ""


class SummaryResultModel(_Ups):
    Status: VoidStatusModel


class PackageLevelResultModel(_Ups):
    TrackingNumber: str
    Status: VoidStatusModel


class VoidShipmentResponseModel(_Ups):
    SummaryResult: SummaryResultModel
    PackageLevelResults: ListOf[PackageLevelResultModel] = []


class VoidEnvelopeModel(_Ups):
    VoidShipmentResponse: VoidShipmentResponseModel


# --------------------------------------------------------------------------- tracking
# Track API v1 uses camelCase; every field is optional in the spec.


class TrackStatusModel(_Ups):
    type: str = ""
    code: str = ""
    description: str = ""
    statusCode: str = ""


class TrackAddressModel(_Ups):
    city: str | None = None
    stateProvince: str | None = None
    countryCode: str | None = None
    country: str | None = None


class TrackLocationModel(_Ups):
    address: TrackAddressModel | None = None


class ActivityModel(_Ups):
    date: str | None = None
    time: str | None = None
    gmtDate: str | None = None
    gmtTime: str | None = None
    gmtOffset: str | None = None
    status: TrackStatusModel | None = None
    location: TrackLocationModel | None = None


class DeliveryDateModel(_Ups):
    type: str = ""
    date: str = ""


class DeliveryTimeModel(_Ups):
    type: str = ""
    startTime: str | None = None
    endTime: str | None = None


class DeliveryInformationModel(_Ups):
    location: str | None = None


class TrackPackageModel(_Ups):
    trackingNumber: str | None = None
    deliveryInformation: DeliveryInformationModel | None = None
    activity: ListOf[ActivityModel] = []
    deliveryDate: ListOf[DeliveryDateModel] = []
    deliveryTime: DeliveryTimeModel | None = None


class TrackShipmentModel(_Ups):
    inquiryNumber: str | None = None
    package: ListOf[TrackPackageModel] = []
    warnings: ListOf[UpsError] = []


class TrackResponseModel(_Ups):
    shipment: ListOf[TrackShipmentModel] = []


class TrackEnvelopeModel(_Ups):
    trackResponse: TrackResponseModel
