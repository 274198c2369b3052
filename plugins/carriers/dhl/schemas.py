"""The parts of DHL's JSON answers the adapter reads, as pydantic models (unknown keys ignored).

Field names are DHL's own so each model reads against its spec:
- Authentication API (Post & Parcel Germany) OpenAPI 2.0.5 (``pp-account-auth-ropc``),
  ``TokenResponse``;
- Parcel DE Shipping API v2 OpenAPI 2.1.13: ``LabelDataResponse`` (``status`` +
  ``items``), ``ResponseItem`` (``shipmentNo``, ``sstatus``, ``label``, ``customsDoc``,
  ``validationMessages``), ``RequestStatus`` (``title``, ``statusCode``/``status``, ``detail``),
  ``Document`` (``b64``, ``zpl2``, ``url``, ``fileFormat``) and ``ValidationMessageItem``;
- Shipment Tracking - Unified (developer.dhl.com/api-reference/shipment-tracking, OpenAPI
  ``dpdhl_tracking-unified-api``): ``shipments[]`` with ``id``, ``service``, ``status``,
  ``estimatedTimeOfDelivery``, ``estimatedDeliveryTimeFrame`` and ``events[]`` of
  ``supermodelIoLogisticsTrackingShipmentEvent`` (``timestamp``, ``location.address``,
  ``statusCode``, ``status``, ``description``); errors as problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from hub.errors import PermanentError


def _text(value: object) -> object:
    """Numbers where the spec says string (DHL's own examples send ``shipmentNo`` as one)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _list(value: object) -> object:
    return [] if value is None else value


Text = Annotated[str, BeforeValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], payload: Any, what: str) -> M:
    """Validate a DHL answer; a shape that does not fit names the first offending field."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        raise PermanentError(f"{what}: unexpected DHL answer at {where}: {error['msg']}") from None


# --------------------------------------------------------------------------- auth


class TokenAnswer(_Model):
    access_token: str = Field(min_length=1)
    expires_in: float | None = Field(default=None, gt=0)


# --------------------------------------------------------------------------- shipping


class RequestStatus(_Model):
    title: str | None = None
    statusCode: int | None = None
    """Deprecated by DHL in favour of ``status``; either may come."""
    status: int | None = None
    detail: str | None = None

    @property
    def code(self) -> int | None:
        return self.status if self.status is not None else self.statusCode


class ValidationMessage(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    field: str | None = Field(default=None, alias="property")
    """DHL's ``property``: the request field refused, e.g. ``consignee.postalCode``."""
    validationMessage: str | None = None
    validationState: str | None = None

    @property
    def is_error(self) -> bool:
        return (self.validationState or "").strip().lower() == "error"


class Document(_Model):
    b64: str | None = None
    zpl2: str | None = None
    url: str | None = None
    fileFormat: str | None = None
    printFormat: str | None = None


class ResponseItem(_Model):
    shipmentNo: Text | None = None
    shipmentRefNo: Text | None = None
    sstatus: RequestStatus | None = None
    label: Document | None = None
    customsDoc: Document | None = None
    validationMessages: Annotated[list[ValidationMessage], BeforeValidator(_list)] = []


class LabelDataResponse(_Model):
    status: RequestStatus | None = None
    items: Annotated[list[ResponseItem], BeforeValidator(_list)] = []


# --------------------------------------------------------------------------- tracking


class TrackingAddress(_Model):
    countryCode: str | None = None
    postalCode: Text | None = None
    addressLocality: str | None = None


class TrackingPlace(_Model):
    address: TrackingAddress | None = None


class TrackingEventModel(_Model):
    timestamp: str | None = None
    location: TrackingPlace | None = None
    statusCode: str | None = None
    status: str | None = None
    description: str | None = None


class DeliveryTimeFrame(_Model):
    estimatedFrom: str | None = None
    estimatedThrough: str | None = None


class TrackedShipment(_Model):
    id: Text | None = None
    service: str | None = None
    status: TrackingEventModel | None = None
    estimatedTimeOfDelivery: str | None = None
    estimatedDeliveryTimeFrame: DeliveryTimeFrame | None = None
    events: Annotated[list[TrackingEventModel], BeforeValidator(_list)] = []


class TrackingResponse(_Model):
    shipments: Annotated[list[TrackedShipment], BeforeValidator(_list)] = []
