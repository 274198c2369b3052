"""What the adapter remembers of its bookings, in the plugin's state directory.

PostNord's booking is not idempotent and its Track & Trace carries no prices, so a record is
written before each booking call and completed after it. It lets ``carrier_find_label``
reconcile a lost answer (and price what it finds) and ``carrier_void_label`` build the
Deletion, which must repeat the original consignor and service. A record holds ids, the
service, the price and the consignor (the shipping warehouse's address): no recipient data.

One JSON file per consignor reference, replaced atomically. Workers that should reconcile
each other's bookings must share the hub's ``data_dir``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.domain.money import Money
from hub.domain.shipment import LabelFormat
from hub.errors import PermanentError


class BookingState(StrEnum):
    PENDING = "pending"
    """Sent, answer not (yet) read: the booking may or may not exist."""
    BOOKED = "booked"
    FAILED = "failed"
    """PostNord refused, or the call never reached it: nothing to find."""
    CANCELLED = "cancelled"


class BookingRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str
    state: BookingState
    service_code: str
    label_format: LabelFormat
    price: Money
    parcels: int
    consignor: dict[str, Any]
    """The EDI consignor party exactly as booked (the Deletion repeats it)."""
    created_at: datetime
    shipment_id: str | None = None
    item_ids: tuple[str, ...] = ()
    print_ids: tuple[str, ...] = ()
    """PostNord's print ids of the parcels, when its booking answer gave them."""
    tracking_url: str | None = None


class BookingStore:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def _path(self, reference: str) -> Path:
        name = hashlib.sha256(reference.encode()).hexdigest()[:40]
        return self._directory / f"{name}.json"

    def load(self, reference: str) -> BookingRecord | None:
        path = self._path(reference)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            record = BookingRecord.model_validate_json(text)
        except ValidationError:
            raise PermanentError(f"booking record {path.name} is damaged: check it") from None
        return record if record.reference == reference else None

    def save(self, record: BookingRecord) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._path(record.reference)
        temporary = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        temporary.write_text(record.model_dump_json(), encoding="utf-8")
        temporary.replace(path)
