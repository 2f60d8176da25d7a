"""Domain errors: each has a stable code and an HTTP status; the web layers render them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the platform said no. Services raise these; nothing is written."""

    code = "domain_error"
    status = 422
    message = "The request cannot be carried out."
    retry_after: int | None = None  # seconds until trying again is worth it (a 429's Retry-After header)

    def __init__(self, message: str | None = None, *, code: str | None = None, retry_after: int | None = None,
                 **details: Any):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code is not None:
            self.code = code  # a more specific code than the class's, e.g. "invitation_invalid"
        if retry_after is not None:
            self.retry_after = retry_after
        self.details = details


class InvalidInput(DomainError):
    code, status, message = "invalid_input", 422, "The input is not valid."


class InvalidAmount(InvalidInput):
    code, message = "invalid_amount", "Amounts are whole numbers greater than zero."


class NotFound(DomainError):
    code, status, message = "not_found", 404, "Not found."


class Forbidden(DomainError):
    code, status, message = "forbidden", 403, "You may not do that."


class Conflict(DomainError):
    code, status, message = "conflict", 409, "The request conflicts with the current state."


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"
    message = "This idempotency key was already used with a different request."


class InsufficientPoints(Conflict):
    code, message = "insufficient_points", "Not enough available points."


class AccountFrozen(Conflict):
    code, message = "account_frozen", "The account is frozen."


class RateLimited(DomainError):
    """Too many tries; ``retry_after`` says how many seconds until the allowance renews."""

    code, status, message = "rate_limited", 429, "Too many requests; try again later."


class AuthenticationFailed(DomainError):
    code, status, message = "authentication_failed", 401, "Authentication failed."

