"""The parts of PostNord's JSON answers the adapter reads, as pydantic models (unknown keys
ignored). Field names are PostNord's own so each model reads against its spec:

- Booking APIs 3.5.29.1 (developer.postnord.com, swagger as vendored in Joaqim/karrio
  ``modules/connectors/postnord/vendor/booking.swagger.json``): ``ediLabelResponse``
  (``bookingResponse`` + ``labelPrintout``), ``bookingResponse`` (``idInformation[]`` with
  ``ids``, ``urls``, ``errorResponse``), ``labelPrintout`` and ``errorResponse``
  (``message`` + ``compositeFault.faults[]``).
- Track & Trace ``TrackingInformationResponse`` (shipments, items, events; the shape v5
  ``findByIdentifier.json`` and v7 share; schema from the vendored
  ``track-and-trace-v7-findbyreference.swagger.json``, ``ResponseDto``).
- Transit Time 2.0.3 ``TransitTimeResponseV2`` (``transit-time-v1-v2.swagger.json``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _none_as_empty(value: object) -> object:
    return [] if value is None else value


def _one_as_list(value: object) -> object:
    """Transit Time shows ``additionalServices`` as an object in one example, a list in the
    other: read both as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --------------------------------------------------------------------------- errors


class ParamValue(_Model):
    param: str | None = None
    value: str | None = None


class Fault(_Model):
    faultCode: str | None = None
    explanationText: str | None = None
    paramValues: Annotated[list[ParamValue], BeforeValidator(_none_as_empty)] = []


class CompositeFault(_Model):
    faults: Annotated[list[Fault], BeforeValidator(_none_as_empty)] = []


class ErrorResponse(_Model):
    message: str | None = None
    compositeFault: CompositeFault | None = None

    @property
    def has_fault(self) -> bool:
        return bool(self.message) or bool(self.compositeFault and self.compositeFault.faults)


class GatewayError(_Model):
    """The API gateway's own refusal (e.g. a key without the product), as seen live by the
    Joaqim/karrio connector: ``{"error": {"status_code", "error_type", "message"}}``."""

    status_code: int | None = None
    error_type: str | None = None
    message: str | None = None


class ErrorBody(ErrorResponse):
    """Any of PostNord's error envelopes: ``errorResponse`` at the top level or nested."""

    errorResponse: ErrorResponse | None = None
    error: GatewayError | None = None


# --------------------------------------------------------------------------- booking


class Id(_Model):
    idType: str | None = None
    value: str | None = None
    printId: str | None = None


class Url(_Model):
    type: str | None = None
    url: str | None = None


class IdInformation(_Model):
    status: str | None = None
    """``OK`` or ``FAIL``."""
    ids: Annotated[list[Id], BeforeValidator(_none_as_empty)] = []
    urls: Annotated[list[Url], BeforeValidator(_none_as_empty)] = []
    errorResponse: ErrorResponse | None = None


class BookingResponse(_Model):
    bookingId: str | None = None
    idInformation: Annotated[list[IdInformation], BeforeValidator(_none_as_empty)] = []


class Printout(_Model):
    type: str | None = None
    labelFormat: str | None = None
    encoding: str | None = None
    """``base64`` in the spec; the ZPL endpoint was seen sending raw text as ``none``."""
    data: str | None = None
    dataValue: str | None = None


class PrintoutItem(_Model):
    itemIds: str | None = None
    printId: str | None = None
    status: str | None = None
    errorResponse: ErrorResponse | None = None


class LabelPrintout(_Model):
    itemIds: Annotated[list[PrintoutItem], BeforeValidator(_none_as_empty)] = []
    printout: Printout | None = None


class EdiLabelResponse(_Model):
    bookingResponse: BookingResponse | None = None
    labelPrintout: Annotated[list[LabelPrintout], BeforeValidator(_none_as_empty)] = []


# --------------------------------------------------------------------------- tracking


class Location(_Model):
    name: str | None = None
    displayName: str | None = None
    city: str | None = None
    postcode: str | None = None
    countryCode: str | None = None
    country: str | None = None
    locationType: str | None = None


class TrackingEvent(_Model):
    eventTime: str | None = None
    eventCode: str | None = None
    status: str | None = None
    eventDescription: str | None = None
    location: Location | None = None


class StatusText(_Model):
    header: str | None = None
    body: str | None = None


class Item(_Model):
    itemId: str | None = None
    status: str | None = None
    estimatedTimeOfArrival: str | None = None
    deliveryDate: str | None = None
    statusText: StatusText | None = None
    events: Annotated[list[TrackingEvent], BeforeValidator(_none_as_empty)] = []


class Reference(_Model):
    value: str | None = None
    type: str | None = None


class Shipment(_Model):
    shipmentId: str | None = None
    status: str | None = None
    estimatedTimeOfArrival: str | None = None
    shipmentReferences: Annotated[list[Reference], BeforeValidator(_none_as_empty)] = []
    items: Annotated[list[Item], BeforeValidator(_none_as_empty)] = []


class TrackingInformation(_Model):
    compositeFault: CompositeFault | None = None
    shipments: Annotated[list[Shipment], BeforeValidator(_none_as_empty)] = []


class TrackingAnswer(_Model):
    TrackingInformationResponse: TrackingInformation


# --------------------------------------------------------------------------- transit time


class TransitService(_Model):
    basicServiceCode: str | None = None
    name: str | None = None
    additionalServices: Annotated[list[dict[str, object]], BeforeValidator(_one_as_list)] = []


class DayRange(_Model):
    daysMinimum: int | None = Field(default=None, ge=0, le=365)
    daysMaximum: int | None = Field(default=None, ge=0, le=365)


class EstimatedTimeOfArrival(_Model):
    timeOfArrival: str | None = None
    dayRangeOfArrival: DayRange | None = None


class TransitTime(_Model):
    service: TransitService | None = None
    estimatedTimeOfArrival: EstimatedTimeOfArrival | None = None
    isSupported: bool | None = None
    isBookable: bool | None = None
    errorMessage: str | None = None
