"""Activity options shared by the workflows: every call has a timeout and a retry policy.

A call first runs as a local activity with a few quick attempts (one marker event in history).
If it still fails with a retryable error, the workflow hands it to a regular activity, which
the server retries with capped backoff for as long as the outage lasts: no history per
attempt, and it shows as pending in the UI with its last failure.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

from hub.workflows.failures import NON_RETRYABLE

# Local activities: bounded so the worker never schedules backoff timers (history growth).
QUICK: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=4),
        maximum_attempts=3,
        non_retryable_error_types=NON_RETRYABLE,
    ),
}


def persistent(max_interval_seconds: float) -> dict[str, Any]:
    """A regular activity retried by the server until it succeeds or the order is cancelled."""
    return {
        "start_to_close_timeout": timedelta(minutes=2),
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=max_interval_seconds),
            non_retryable_error_types=NON_RETRYABLE,
        ),
        # A cancel must not wait for a remote side that does not answer.
        "cancellation_type": ActivityCancellationType.TRY_CANCEL,
    }


# The label purchase spends money and may wait on a slow carrier: always a regular,
# heartbeating activity. A cancel waits for the attempt in flight to end, so a label bought
# meanwhile is known (and voided), never lost.
EXTERNAL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=2),
    # The activity heartbeats while it waits on the remote side: a crashed worker's attempt is
    # retried after this, not after the full start-to-close timeout.
    "heartbeat_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(
        maximum_interval=timedelta(minutes=5), non_retryable_error_types=NON_RETRYABLE
    ),
    "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
}
