"""Errors plugins raise, and how activities treat them.

Activities turn these into Temporal `ApplicationError`s: `PermanentError` is non-retryable,
`TransientError` retries with backoff (honouring `retry_after`), `AmbiguousOutcomeError` means a
request with a side effect may or may not have happened and must be reconciled, never repeated.
"""

from __future__ import annotations

from pydantic import ValidationError


class HubError(Exception):
    """Base of the errors plugins and the hub raise on purpose."""


class ConfigError(HubError):
    """Start-up configuration is wrong; the message is one line saying which setting and why."""


class PermanentError(HubError):
    """Retrying will not help (validation error, 4xx other than 429). Carries the remote message."""


class InvalidSignatureError(PermanentError):
    """A webhook whose signature is missing or wrong: refused (401), never parsed."""


class TransientError(HubError):
    """Retrying later may help (timeouts before sending, 5xx, 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AmbiguousOutcomeError(HubError):
    """The request may have taken effect (e.g. timeout after sending). Reconcile; do not resend."""


class NotReadyError(TransientError):
    """The remote side has not finished yet (e.g. pickers still working); ask again later."""


def one_line(exc: ValidationError) -> str:
    """A settings or data validation error as one line: where, what, and how many more."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
