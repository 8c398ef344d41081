"""Domain errors. Repositories and services raise these; one place (functions/api/errors.py) maps
them to HTTP, and the state machines retry on TransientError's name.

Messages never carry personal data: identifiers in messages are customer or request ids only.
"""


class DomainError(Exception):
    code = "INTERNAL"


class ValidationError(DomainError):
    code = "VALIDATION_ERROR"


class UnauthorizedError(DomainError):
    code = "UNAUTHORIZED"


class ForbiddenError(DomainError):
    code = "FORBIDDEN"


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class CustomerNotFoundError(NotFoundError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} was not found")


class RequestNotFoundError(NotFoundError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"privacy request {request_id} was not found")


class ConflictError(DomainError):
    code = "CONFLICT"


class NotConfiguredError(DomainError):
    """A capability this deployment was not given the resources for (answers 503)."""

    code = "NOT_CONFIGURED"


class TransientError(DomainError):
    """Worth retrying (throttling, transaction conflicts, an AWS hiccup): every step is
    idempotent, and the state machines retry on this error's name."""

    code = "INTERNAL"
