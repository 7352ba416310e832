"""Named domain errors. Each carries the contract's extensions.code.

Raised by the domain and the services; mapped once to GraphQL errors (schema/errors.py)
and to inline messages on the pages.
"""

from __future__ import annotations

from server.domain.messages import Message, text


class DomainError(Exception):
    """`message` is a Message (a message id and its parameters, rendered in the viewer's language by
    the GraphQL error formatter); a plain string is shown as it is. `details` become extensions."""

    code = "VALIDATION"

    def __init__(self, message: str | Message, *, field: str | None = None, details: dict | None = None) -> None:
        self.msg = text(message)
        super().__init__(str(self.msg))
        self.field = field
        self.details = details or {}

    @property
    def message(self) -> str:
        """The zh-CN text (logs, and callers that want a string)."""
        return str(self.msg)


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class AccountClosed(Unauthenticated):
    """The right password for a closed account (a leaver's): said only after the password matched, so
    that nobody without it learns which accounts exist."""

    code = "ACCOUNT_CLOSED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class ValidationFailed(DomainError):
    code = "VALIDATION"


class InvalidTransition(DomainError):
    """An illegal state change (approving twice, settling more than owed...)."""

    code = "CONFLICT"


class Conflict(InvalidTransition):
    pass


class LimitExceeded(DomainError):
    """Not an error for clients: the loan is stored REJECTED with this message as its reason."""

    code = "VALIDATION"


class ClearanceBlocked(DomainError):
    code = "CLEARANCE_BLOCKED"


class Unavailable(DomainError):
    """The server cannot do it now for a reason of its own (the disk is full): retry later."""

    code = "UNAVAILABLE"


class RateLimited(DomainError):
    """Too many attempts (logins): try again after `retry_after` seconds (extensions.retryAfter)."""

    code = "RATE_LIMITED"

    def __init__(self, message: str | Message, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field, details={"retryAfter": max(1, int(retry_after))})

    @property
    def retry_after(self) -> int:
        return int(self.details["retryAfter"])

    @property
    def extensions(self) -> dict:
        return {"retryAfter": self.retry_after}
