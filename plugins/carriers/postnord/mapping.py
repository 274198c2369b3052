"""Pure helpers shared by the PostNord mappings (no I/O here): validating answers, reading
PostNord's error envelopes, the references that tie a booking to the hub's idempotency key,
units and PostNord's local timestamps.

Quotes are in :mod:`.pricing` and :mod:`.transit`, bookings in :mod:`.booking` and
:mod:`.responses`, tracking in :mod:`.tracking`.

Error envelopes (Booking APIs 3.5.29.1 ``errorResponse``): ``{"message", "compositeFault":
{"faults": [{"faultCode", "explanationText", "paramValues": [{"param", "value"}]}]}}``, also
nested as ``errorResponse`` or ``TrackingInformationResponse.compositeFault``; the API gateway's
``{"error": {"status_code", "error_type", "message"}}`` follows the Joaqim/karrio connector's
live observation (its fixtures and ``error.py``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from hub.errors import PermanentError
from plugins.carriers.postnord.schemas import CompositeFault, ErrorBody
from plugins.carriers.postnord.services import TIMEZONES

M = TypeVar("M", bound=BaseModel)

REFERENCE_MAX = 35
"""``referenceNo`` is at most 35 characters."""
_SAFE_REFERENCE = re.compile(r"^[A-Za-z0-9_:-]{1,35}$")
"""Fits ``referenceNo`` and a URL path segment (no dots: ``..`` would change the path)."""
_NAMESPACE = uuid.UUID("6b2d0a4e-51c8-4b8e-9a55-2f0f3e1d7c93")
"""Namespace of the UUIDs sent as ``messageId``."""


def validated(model: type[M], payload: Any, what: str) -> M:
    """Validate a PostNord answer; a shape that does not fit names the first offending field."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise PermanentError(f"{what}: unexpected PostNord answer: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "(root)"
    return f"{where}: {error['msg']}"


def faults_text(composite: CompositeFault | None) -> str:
    """Each fault's explanation with its code, and the parameters it names (names only:
    PostNord echoes the submitted values, which may be personal data)."""
    if composite is None:
        return ""
    parts = []
    for fault in composite.faults:
        text = fault.explanationText or ""
        names = [p.param for p in fault.paramValues if p.param]
        if names:
            text = f"{text} ({', '.join(names)})" if text else ", ".join(names)
        if fault.faultCode:
            text = f"{text} [{fault.faultCode}]" if text else fault.faultCode
        if text:
            parts.append(text)
    return "; ".join(parts)


def error_message(payload: Any) -> str | None:
    """PostNord's error body in words, whichever envelope it came in."""
    try:
        body = ErrorBody.model_validate(payload)
    except ValidationError:
        return None
    if body.error is not None and body.error.message:
        kind = f"{body.error.error_type}: " if body.error.error_type else ""
        return f"{kind}{body.error.message}"
    for envelope in (body, body.errorResponse):
        if envelope is None:
            continue
        detail = faults_text(envelope.compositeFault)
        if envelope.message and detail:
            return f"{envelope.message}: {detail}"
        if envelope.message or detail:
            return envelope.message or detail
    return None


# --------------------------------------------------------------------------- references


def customer_reference(idempotency_key: str) -> str:
    """The consignor reference (``referenceType`` CU) a booking carries: the hub's key itself
    when it fits PostNord's 35 characters and a URL path segment, else a digest of it. It is
    stable across retries, searchable in Track & Trace, and the adapter's label id."""
    if _SAFE_REFERENCE.fullmatch(idempotency_key):
        return idempotency_key
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"hub-{digest[: REFERENCE_MAX - 4]}"


def message_id(reference: str, purpose: str) -> str:
    """``messageId`` (at most 36 characters): a UUID derived from the reference, the same on
    every retry of one message."""
    return str(uuid.uuid5(_NAMESPACE, f"{purpose}|{reference}"))


# --------------------------------------------------------------------------- units


def kilograms(grams: int) -> float:
    """A JSON number of kilograms with gram precision (``KGM``)."""
    return float(Decimal(grams) / 1000)


def centimetres(millimetres: int) -> float:
    return float(Decimal(millimetres) / 10)


def amount(value: Decimal) -> float:
    """Money as PostNord wants it: "2-decimal format with . as separator"."""
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(text: str, country: str | None, default_zone: str) -> datetime:
    """A PostNord timestamp as an aware datetime. Track & Trace and Transit Time give local
    times without an offset: those are read in the time zone of the country they belong to
    (or ``default_zone``); a timestamp with an offset or ``Z`` is taken as it is."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(TIMEZONES.get(country or "", default_zone)))
