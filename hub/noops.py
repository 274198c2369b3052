"""Deliveries the intake answered 2xx that started or changed nothing, kept so none vanishes.

Each becomes one JSONL row (ids, outcome and reason; never the body, which holds personal data),
the first of each cause a WARNING (not every delivery: a misconfigured shop would flood the log),
and every one a count by cause for `GET /intake/stats`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MAX_CAUSES = 200
"""Distinct causes counted one by one; beyond, a plugin is putting ids in its reasons."""
OTHER_CAUSES = "other causes (too many distinct reasons)"


class NoOpRecords:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.since = datetime.now(UTC)
        self._counts: Counter[str] = Counter()

    def record(
        self,
        outcome: str,
        reason: str,
        *,
        marketplace: str,
        account: str | None = None,
        external_id: str | None = None,
        dedupe_key: str | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        """Keep one no-op; the ids are None for a delivery that named no order."""
        known = reason in self._counts or len(self._counts) < MAX_CAUSES
        cause = reason if known else OTHER_CAUSES
        if cause not in self._counts:
            log.warning("%s delivery taken in without effect (%s): %s", marketplace, outcome, cause)
        self._counts[cause] += 1
        row = {
            "marketplace": marketplace,
            "account": account,
            "external_id": external_id,
            "dedupe_key": dedupe_key,
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "recorded_at": datetime.now(UTC).isoformat(),
            "outcome": outcome,
            "reason": reason,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def counts(self) -> dict[str, int]:
        """Deliveries without effect by cause, since this process started."""
        return dict(self._counts)
