"""Pure reading of Parcel DE Shipping answers: per-shipment outcomes, DHL's error messages
naming the offending property, label documents and deletions (no I/O here).

Shapes (OpenAPI 2.1.13): every ``/orders`` call answers a ``LabelDataResponse`` {``status``:
``RequestStatus``, ``items[]``: ``ResponseItem``}, one item per shipment of the request, in
request order; HTTP 207 when several shipments were sent, with a status per item (200 or 400);
errors 401/429/500 are a bare ``RequestStatus`` (problem+json). An item's
``validationMessages[]`` ({``property``, ``validationMessage``, ``validationState``}) say which
field DHL refused. Labels come in ``label`` as ``b64`` (PDF, Base64), ``zpl2`` (ZPL as text) or
a ``url``; a CN23 for DHL Paket International comes separately as ``customsDoc`` (PDF, A4).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hub.domain.messages import LabelDocument, VoidResult
from hub.domain.shipment import LabelFormat
from hub.errors import PermanentError
from plugins.carriers.dhl.schemas import (
    Document,
    LabelDataResponse,
    RequestStatus,
    ResponseItem,
    validated,
)

MAGIC = {LabelFormat.PDF: b"%PDF", LabelFormat.ZPL: b"^XA"}


class UnreadableLabel(ValueError):
    """DHL made the label but its document cannot be read."""


@dataclass(frozen=True)
class Outcome:
    """What DHL said about one shipment of a request."""

    ok: bool
    messages: tuple[str, ...] = ()
    """Errors, each naming DHL's property when DHL gave one."""
    warnings: tuple[str, ...] = ()
    """The properties DHL warned about (only their names: warning texts may quote addresses)."""
    shipment_no: str | None = None
    label: Document | None = None
    customs_doc: Document | None = None


def _status_text(status: RequestStatus | None) -> str:
    if status is None:
        return ""
    return (status.detail or status.title or "").strip()


def _item_ok(item: ResponseItem) -> bool:
    code = item.sstatus.code if item.sstatus else None
    return (
        code is not None
        and 200 <= code < 300
        and not any(m.is_error for m in item.validationMessages)
    )


def _errors(item: ResponseItem) -> tuple[str, ...]:
    found = []
    for message in item.validationMessages:
        if not message.is_error:
            continue
        text = (message.validationMessage or "").strip() or "refused"
        prop = (message.field or "").strip()
        found.append(f"{prop}: {text}" if prop else text)
    return tuple(found)


def outcome_of(item: ResponseItem) -> Outcome:
    ok = _item_ok(item)
    messages = () if ok else _errors(item)
    if not ok and not messages:
        messages = (_status_text(item.sstatus) or "refused without a reason",)
    return Outcome(
        ok=ok,
        messages=messages,
        warnings=tuple(
            (m.field or "").strip() or "shipment" for m in item.validationMessages if not m.is_error
        ),
        shipment_no=item.shipmentNo or None,
        label=item.label,
        customs_doc=item.customsDoc,
    )


def outcomes(payload: Any, count: int, what: str) -> list[Outcome]:
    """One outcome per shipment sent, in request order."""
    response = validated(LabelDataResponse, payload, what)
    if len(response.items) != count:
        detail = error_message(payload) or "no per-shipment status"
        raise PermanentError(
            f"{what}: DHL answered for {len(response.items)} of {count} shipments: {detail}"
        )
    return [outcome_of(item) for item in response.items]


def error_message(payload: Any) -> str | None:
    """DHL's own words for a failed call: the overall status and each refused property."""
    try:
        response = LabelDataResponse.model_validate(payload)
    except ValidationError:
        response = LabelDataResponse()
    parts = [_status_text(response.status)]
    if response.status is None:
        try:  # 401, 429 and 500 answer a bare RequestStatus
            parts = [_status_text(RequestStatus.model_validate(payload))]
        except ValidationError:
            parts = []
    for index, item in enumerate(response.items):
        if _item_ok(item):
            continue
        label = f"shipments.{index}" if len(response.items) > 1 else ""
        for message in outcome_of(item).messages:
            parts.append(f"{label} {message}".strip())
    text = "; ".join(p for p in parts if p)
    return text or None


# --------------------------------------------------------------------------- labels


def _decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UnreadableLabel(f"{what} is not valid Base64") from None


def document_bytes(document: Document | None, label_format: LabelFormat, what: str) -> bytes | None:
    """The label's bytes when the answer carries them; None when only a URL came."""
    if document is None:
        raise UnreadableLabel(f"{what}: no label in the answer")
    if label_format is LabelFormat.ZPL and document.zpl2 and document.zpl2.strip():
        content = document.zpl2.strip().encode()
    elif document.b64 and document.b64.strip():
        content = _decode(document.b64, what)
    elif document.url:
        return None
    else:
        raise UnreadableLabel(f"{what}: the label has neither content nor URL")
    check_magic(content, label_format, what)
    return content


def check_magic(content: bytes, label_format: LabelFormat, what: str) -> None:
    if not content.lstrip().startswith(MAGIC[label_format]):
        raise UnreadableLabel(f"{what}: the document is not a {label_format.value} label")


def join_labels(parts: list[bytes], label_format: LabelFormat) -> LabelDocument:
    """One document for the shipment: ZPL labels concatenate (each a whole ^XA...^XZ)."""
    if len(parts) == 1:
        return LabelDocument(label_format=label_format, content=parts[0])
    if label_format is not LabelFormat.ZPL:
        raise UnreadableLabel(f"{len(parts)} {label_format.value} labels cannot be joined")
    return LabelDocument(
        label_format=label_format, content=b"\n".join(p.strip() for p in parts) + b"\n"
    )


# --------------------------------------------------------------------------- deletion


def void_result(payload: Any, numbers: list[str]) -> VoidResult:
    """``DELETE /orders``: 200 per deleted shipment, 400 "when shipment does not exist (or was
    already deleted)"; a manifested shipment cannot be deleted either."""
    results = outcomes(payload, len(numbers), "DHL delete")
    messages = []
    for number, outcome in zip(numbers, results, strict=True):
        shown = outcome.shipment_no or number
        if outcome.ok:
            messages.append(f"{shown}: deleted")
        else:
            reason = "; ".join(outcome.messages)
            messages.append(
                f"{shown}: not deleted ({reason}); DHL refuses shipments that are unknown, "
                "already deleted or already manifested alike"
            )
    return VoidResult(voided=all(o.ok for o in results), message="; ".join(messages))
