"""The ``Idempotency-Key`` header of the requests that move points: one check, one limit, one error."""

from __future__ import annotations

from flask import request

from carbon_platform.errors import InvalidInput
from carbon_platform.models.base import CLIENT_KEY_LENGTH

HEADER = "Idempotency-Key"
#: The header as the OpenAPI document describes it (``@blp.doc(parameters=[PARAMETER])``).
PARAMETER = {"in": "header", "name": HEADER, "required": True,
             "schema": {"type": "string", "maxLength": CLIENT_KEY_LENGTH}}


def idempotency_key() -> str:
    """The request's ``Idempotency-Key`` header: 1 to ``CLIENT_KEY_LENGTH`` printable characters (it is
    stored, and PostgreSQL cannot store a NUL)."""
    key = request.headers.get(HEADER, "").strip()
    if not key or len(key) > CLIENT_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"send an {HEADER} header (1 to {CLIENT_KEY_LENGTH} printable characters)",
                           code="idempotency_key_required")
    return key
