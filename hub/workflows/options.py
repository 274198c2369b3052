"""Activity options shared by the workflows: every call has a timeout and a retry policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from hub.workflows.contracts import ErrorType

NON_RETRYABLE = [
    ErrorType.PERMANENT.value,
    ErrorType.LABEL_UNCERTAIN.value,
    ErrorType.CUSTOMS_DATA_MISSING.value,
]

# Local activities: quick, idempotent calls (WMS, rating, channel confirmation, notices).
# One marker event each in history; long backoffs become timers, so outages do not block.
QUICK: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        maximum_interval=timedelta(seconds=30), non_retryable_error_types=NON_RETRYABLE
    ),
}

# Regular activities: calls that buy or confirm something outside; visible as pending in the UI,
# retried with backoff for as long as the remote side needs (rate limits, outages).
EXTERNAL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=2),
    # The activity heartbeats while it waits on the remote side: a crashed worker's attempt is
    # retried after this, not after the full start-to-close timeout.
    "heartbeat_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(
        maximum_interval=timedelta(minutes=5), non_retryable_error_types=NON_RETRYABLE
    ),
}
