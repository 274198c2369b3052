"""Pure reading of PostNord's booking answers (no I/O here).

- ``ediLabelResponse`` of ``/v3/edi/labels/{pdf|zpl}`` (HTTP 200): ``bookingResponse
  {bookingId, idInformation[{status OK|FAIL, ids[{idType, value, printId}], urls[{type, url}],
  errorResponse}]}`` and ``labelPrintout[{itemIds[...], printout{labelFormat, encoding, data}}]``.
- ``labelPrintout`` of ``/v3/labels/ids/{pdf|zpl}`` (the same printouts for known item ids).
- ``bookingResponse`` of ``/v3/edi`` (HTTP 201), the answer to a Deletion.
Spec: Booking APIs 3.5.29.1 (see :mod:`.schemas`). Two behaviours the spec does not show follow
the Joaqim/karrio connector's live captures: a ZPL printout may arrive as raw text with
``encoding: "none"``, and a failed item is reported inside a 2xx body.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pydantic import RootModel, ValidationError

from hub.domain.shipment import LabelFormat
from hub.errors import PermanentError
from plugins.carriers.postnord.mapping import describe, faults_text
from plugins.carriers.postnord.schemas import (
    BookingResponse,
    EdiLabelResponse,
    ErrorResponse,
    IdInformation,
    LabelPrintout,
)

MAGIC = {LabelFormat.PDF: b"%PDF", LabelFormat.ZPL: b"^XA"}
NOT_INVOICED = "PostNord invoices nothing until it registers a parcel, so do not hand them over"


class UnreadableAnswer(ValueError):
    """A 2xx answer to a booking that cannot be read: the booking may well exist."""


class BookingRefused(PermanentError):
    """PostNord answered the booking with a failure for the shipment."""


@dataclass(frozen=True)
class Booked:
    shipment_id: str | None
    item_ids: tuple[str, ...]
    tracking_url: str | None
    print_ids: tuple[str, ...] = ()
    """One per parcel when PostNord gave them: what ``/v3/labels/ids`` prints by."""


class Printouts(RootModel[list[LabelPrintout]]):
    pass


def _error_text(error: ErrorResponse | None) -> str:
    if error is None:
        return ""
    detail = faults_text(error.compositeFault)
    return ": ".join(part for part in (error.message, detail) if part)


def _failed(info: IdInformation) -> bool:
    status = (info.status or "").upper()
    return status not in ("", "OK") or bool(info.errorResponse and info.errorResponse.has_fault)


def _ids(infos: list[IdInformation], kind: str) -> list[str]:
    return [
        entry.value
        for info in infos
        for entry in info.ids
        if entry.value and (entry.idType or "").lower() == kind.lower()
    ]


def read_label_response(payload: Any) -> EdiLabelResponse:
    try:
        return EdiLabelResponse.model_validate(payload)
    except ValidationError as exc:
        raise UnreadableAnswer(describe(exc)) from None


def booked(answer: EdiLabelResponse, parcels: int) -> Booked:
    """The parcel ids PostNord allocated, one per parcel, in the order of the parcels."""
    infos = answer.bookingResponse.idInformation if answer.bookingResponse else []
    failures = [info for info in infos if _failed(info)]
    item_ids = _ids([info for info in infos if not _failed(info)], "itemId")
    if failures:
        reasons = "; ".join(_error_text(info.errorResponse) or "FAIL" for info in failures)
        held = f" (items {', '.join(item_ids)} were allocated; {NOT_INVOICED})" if item_ids else ""
        raise BookingRefused(f"PostNord refused the booking: {reasons}{held}")
    if not item_ids:
        raise UnreadableAnswer("the answer names no itemId")
    if len(item_ids) != parcels:
        raise BookingRefused(
            f"PostNord allocated {len(item_ids)} parcel ids ({', '.join(item_ids)}) for "
            f"{parcels} parcels; {NOT_INVOICED}"
        )
    urls = [u.url for info in infos for u in info.urls if (u.type or "").upper() == "TRACKING"]
    shipment_ids = _ids(infos, "shipmentId")
    print_ids = [
        entry.printId
        for info in infos
        for entry in info.ids
        if entry.printId and entry.value in item_ids and (entry.idType or "").lower() == "itemid"
    ]
    return Booked(
        shipment_id=shipment_ids[0] if shipment_ids else None,
        item_ids=tuple(item_ids),
        tracking_url=next((u for u in urls if u and u.startswith("https://")), None),
        print_ids=tuple(print_ids) if len(print_ids) == len(item_ids) else (),
    )


def _decode(data: str, encoding: str | None) -> bytes:
    if encoding and encoding.lower() != "base64":
        return data.encode()  # raw text, as the ZPL endpoint sends it
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        if data.lstrip().startswith(("^XA", "%PDF")):
            return data.encode()
        raise UnreadableAnswer("a printout is neither Base64 nor a label") from None


def label_document(printouts: list[LabelPrintout], label_format: LabelFormat) -> bytes:
    """One document for the shipment. Asked with ``multiPDF``/``multiZPL``, PostNord answers
    with one printout; ZPL printouts, if several, print in sequence when joined."""
    failed = [
        f"{item.itemIds or '?'}: {_error_text(item.errorResponse) or item.status}"
        for entry in printouts
        for item in entry.itemIds
        if (item.status or "OK").upper() != "OK"
    ]
    if failed:
        raise UnreadableAnswer(f"no label for {'; '.join(failed)}")
    documents = []
    for entry in printouts:
        printout = entry.printout
        data = printout and (printout.data or printout.dataValue)
        if printout is None or not data or (printout.type or "LABEL").upper() != "LABEL":
            continue
        content = _decode(data, printout.encoding)
        if MAGIC[label_format] not in content[:64]:
            raise UnreadableAnswer(f"a printout is not a {label_format.value} label")
        documents.append(content)
    if not documents:
        raise UnreadableAnswer("the answer carries no label printout")
    if len(documents) == 1:
        return documents[0]
    if label_format is not LabelFormat.ZPL:
        raise UnreadableAnswer(f"{len(documents)} separate PDF printouts instead of one")
    return b"\n".join(doc.rstrip(b"\r\n") for doc in documents) + b"\n"


def read_printouts(payload: Any) -> list[LabelPrintout]:
    try:
        return Printouts.model_validate(payload).root
    except ValidationError as exc:
        raise UnreadableAnswer(describe(exc)) from None


@dataclass(frozen=True)
class Deletion:
    cancelled: bool
    message: str


def deletion_result(payload: Any, item_ids: tuple[str, ...]) -> Deletion:
    """PostNord's answer to a Deletion. Any item id it did not have before means it booked a
    new shipment instead of cancelling (the Joaqim/karrio connector saw ``/v3/edi`` do so)."""
    try:
        answer = BookingResponse.model_validate(payload)
    except ValidationError as exc:
        return Deletion(False, f"unreadable answer to the cancellation: {describe(exc)}")
    failures = [info for info in answer.idInformation if _failed(info)]
    if failures:
        reasons = "; ".join(_error_text(info.errorResponse) or "FAIL" for info in failures)
        return Deletion(False, f"PostNord refused the cancellation: {reasons}")
    new = [item for item in _ids(answer.idInformation, "itemId") if item not in item_ids]
    if new:
        return Deletion(
            False,
            f"PostNord answered the cancellation with new parcel ids {', '.join(new)}: it may "
            f"have booked them instead of cancelling; {NOT_INVOICED} and cancel by hand",
        )
    return Deletion(True, f"cancelled {', '.join(item_ids)}")
