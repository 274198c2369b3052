"""Where label PDFs/ZPL and other documents live. Workflows carry only a DocumentRef."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hub.domain.shipment import DocumentRef

MEDIA_TYPES = {"PDF": "application/pdf", "ZPL": "application/x-zpl", "PNG": "image/png"}


class LocalDocumentStore:
    """Content-addressed files under a directory; writing the same bytes twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def put(self, content: bytes, *, name: str, media_type: str) -> DocumentRef:
        digest = hashlib.sha256(content).hexdigest()
        suffix = {"application/pdf": ".pdf", "application/x-zpl": ".zpl", "image/png": ".png"}.get(
            media_type, ".bin"
        )
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = self._root / digest[:2] / f"{safe_name}-{digest[:16]}{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
            tmp.write_bytes(content)
            tmp.replace(path)  # atomic: a reader never sees half a label
        return DocumentRef(
            uri=path.resolve().as_uri(),
            media_type=media_type,
            sha256=digest,
            size_bytes=len(content),
        )
