"""ARCHITECTURE.md's tables of the order's life say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from hub.domain.holds import RESOLUTIONS, HoldCode
from hub.domain.status import OrderStage

ARCHITECTURE = Path(__file__).resolve().parents[2] / "ARCHITECTURE.md"


def _table(header: str) -> list[list[str]]:
    """The rows of the markdown table whose header line starts with `header`."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index(header)
    rows: list[list[str]] = []
    for line in text[start:].splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not re.fullmatch(r"-+", cells[0].replace(" ", "")):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def test_every_hold_is_documented_with_exactly_its_actions():
    rows = _table("| Hold | Resolved by")
    documented = {row[0]: tuple(a.strip() for a in row[1].split(",")) for row in rows}
    assert documented == {
        code.value: tuple(action.value for action in actions)
        for code, actions in RESOLUTIONS.items()
    }
    assert set(RESOLUTIONS) == set(HoldCode), "every hold has a way out"


def test_every_stage_has_a_row_in_the_state_table():
    rows = _table("| Stage | Next on success")
    named = {stage.strip() for row in rows for stage in row[0].split(",")}
    assert named == {stage.value for stage in OrderStage}
