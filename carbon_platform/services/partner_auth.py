"""Partner request signatures: HMAC-SHA256 over ``key_id.timestamp.raw_body``.

A partner signs every request with one of its (at most two) live secrets, so it can rotate without
downtime. The timestamp must be within ±300 seconds of ours; comparison is constant-time; every
failure looks the same from outside.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.errors import AuthenticationFailed
from carbon_platform.extensions import db
from carbon_platform.models import Partner

WINDOW_SECONDS = 300
KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "X-Carbon-Key-Id", "X-Carbon-Timestamp", "X-Carbon-Signature"


def signature(secret: str, key_id: str, timestamp: str, body: bytes) -> str:
    message = f"{key_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(key_id: str | None, timestamp: str | None, signed: str | None, body: bytes,
           now: datetime | None = None) -> Partner:
    """The partner whose live secret signed this request, or AuthenticationFailed."""
    failure = AuthenticationFailed("the request signature is not valid", code="invalid_signature")
    # ASCII digits, at most 12 (int() takes "²", and refuses 5,000 digits with a ValueError: a 500); a key id
    # short and printable (it is looked up, and PostgreSQL cannot compare a NUL).
    if (not key_id or not timestamp or not signed or not (timestamp.isascii() and timestamp.isdigit())
            or len(timestamp) > 12 or len(key_id) > 64 or not key_id.isprintable()):
        raise failure
    now = now or utcnow()
    if abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
        raise failure
    partner = db.session.execute(
        sa.select(Partner).where(Partner.key_id == key_id, Partner.active)
    ).scalar_one_or_none()
    if partner is None:
        raise failure
    signed = signed.strip().lower()
    # Check every live secret (no early exit), so timing does not say which one matched.
    matches = [hmac.compare_digest(signature(s.secret, key_id, timestamp, body), signed)
               for s in partner.live_secrets()]
    if not any(matches):
        raise failure
    return partner
