"""Settings of the embedded WMS: ``[warehouses.embedded]`` in ``config/hub.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from hub.plugin import PluginSettings


class EmbeddedWarehouseSettings(PluginSettings):
    catalog_file: Path | None = None
    """Products, warehouses and opening stock; relative to the config file's directory, default
    ``catalog.toml`` there. Read on the first start only, to seed the database; later changes
    go through the WMS (``adjust_stock``)."""
    database: str = "wms.sqlite3"
    """File name of the SQLite database inside the plugin's state directory."""
    busy_timeout_ms: int = Field(default=5000, ge=0)
    """How long a writer waits for another process's transaction before giving up (retryable)."""

    # Floor layout for pick routing: one block of parallel aisles between a front and a back
    # cross-aisle; locations are "<aisle>-<bay>-<level>", bays numbered from the front.
    aisle_spacing_m: float = Field(default=3.0, gt=0)
    """Centre-to-centre distance between adjacent aisles."""
    bay_length_m: float = Field(default=1.0, gt=0)
    bays_per_aisle: int = Field(default=20, ge=1)
    depot_aisle: int = Field(default=1, ge=1)
    """Pickers start and end at the front end of this aisle."""
    routing: Literal["optimal", "s_shape"] = "optimal"
    """``optimal``: shortest tour (exact); ``s_shape``: traverse every aisle with picks."""

    @field_validator("database")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if not value or Path(value).name != value or value in {".", ".."}:
            raise ValueError("must be a file name, without directories")
        return value
