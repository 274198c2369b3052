"""Turn plugin errors into Temporal errors: permanent ones stop retries, transient ones back off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from hub.errors import PermanentError, TransientError
from hub.workflows.contracts import ErrorType


@contextmanager
def plugin_errors(action: str) -> Iterator[None]:
    """Wrap a plugin call; `action` names it in the error ("buy label from ups")."""
    try:
        yield
    except PermanentError as exc:
        raise ApplicationError(
            f"{action}: {exc}", type=ErrorType.PERMANENT.value, non_retryable=True
        ) from None
    except TransientError as exc:
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        raise ApplicationError(
            f"{action}: {exc}", type=ErrorType.TRANSIENT.value, next_retry_delay=delay
        ) from None
    except ValidationError as exc:
        # A plugin answered something that is not the contract's model: a bug, not a blip.
        raise ApplicationError(
            f"{action}: plugin answer does not fit the contract: {exc.errors()[0]['msg']}",
            type=ErrorType.PERMANENT.value,
            non_retryable=True,
        ) from None
