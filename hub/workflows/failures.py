"""How activity failures reach workflow code.

A regular activity's failure arrives as ``ActivityError`` wrapping the ``ApplicationError`` the
activity raised; a local activity's failure arrives as that ``ApplicationError`` itself. The
workflows catch both and look at the application error.
"""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError

ACTIVITY_FAILURES = (ActivityError, ApplicationError)


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
