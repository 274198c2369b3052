"""How activity failures reach workflow code.

A regular activity's failure arrives as ``ActivityError`` wrapping the ``ApplicationError`` the
activity raised; a local activity's failure arrives as that ``ApplicationError`` itself. The
workflows catch both and look at the application error.
"""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError

from hub.workflows.contracts import ErrorType

ACTIVITY_FAILURES = (ActivityError, ApplicationError)

NON_RETRYABLE = [
    ErrorType.PERMANENT.value,
    ErrorType.LABEL_UNCERTAIN.value,
    ErrorType.CUSTOMS_DATA_MISSING.value,
]
"""Error types no retry can fix: the workflow holds (or gives up on a notice) instead."""


def application_cause(err: BaseException) -> ApplicationError | None:
    """The ApplicationError an activity raised, or None (timeouts, cancellations)."""
    if isinstance(err, ApplicationError):
        return err
    if isinstance(err, ActivityError) and isinstance(err.cause, ApplicationError):
        return err.cause
    return None


def describe(err: BaseException) -> str:
    cause = application_cause(err)
    if cause is not None:
        return cause.message
    return str(err.cause or err) if isinstance(err, ActivityError) else str(err)


def is_permanent(err: BaseException) -> bool:
    """A failure no retry can fix (as opposed to an outage, worth waiting out)."""
    cause = application_cause(err)
    return cause is not None and (cause.non_retryable or cause.type in NON_RETRYABLE)
