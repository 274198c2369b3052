"""Helpers for adapters' pure mapping code: a channel payload that cannot become a hub model
fails with an error naming the channel's own field, never a bare pydantic error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hub.domain.messages import MappingProblem
from hub.errors import PermanentError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class MappingError(PermanentError):
    """A channel payload that cannot become an Order; ``problem`` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.problem = MappingProblem(field=field, message=message)


def field_path(loc: Sequence[int | str]) -> str:
    """pydantic's error location as the payload's path: ``line_items[2].sku``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_shape(shape: type[M], payload: Mapping[str, Any], *, whole: str = "order") -> M:
    """Validate a payload against the channel's shape; `whole` names an error of the root."""
    try:
        return shape.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise MappingError(field_path(error["loc"]) or whole, error["msg"]) from None


def build_model(model: type[M], where: str, renames: Mapping[str, str], **values: object) -> M:
    """Build a hub model; its validation error names the channel field the value came from
    (`renames`: hub field -> channel field; the "" entry names an error of the whole model)."""
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"] or ("",)
        named = [renames.get(str(p), str(p)) if i == 0 else p for i, p in enumerate(loc)]
        field = ".".join(part for part in (where, field_path(named)) if part)
        raise MappingError(field or "order", error["msg"]) from None


def required(value: T | None, field: str) -> T:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MappingError(field, "missing")
    return value
