"""Partner request signatures: HMAC-SHA256 over ``key_id.timestamp.METHOD.path.raw_body``.

A partner signs every request with one of its (at most two) live secrets, so it can rotate without
downtime. The method and path are signed so that a body signed for one endpoint cannot be replayed to
another within the window. The timestamp must be within ±300 seconds of ours; comparison is
constant-time; every failure looks the same from outside.

The first form, ``key_id.timestamp.raw_body``, is still accepted from a partner whose
``legacy_signature_until`` is ahead of now (existing partners got a deprecation period; new ones never
had the old form).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import utcnow
from carbon_platform.errors import AuthenticationFailed
from carbon_platform.extensions import db
from carbon_platform.models import Partner

WINDOW_SECONDS = 300
KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "X-Carbon-Key-Id", "X-Carbon-Timestamp", "X-Carbon-Signature"
#: Until when partners registered before the method and path were signed may still send the old form.
#: Migration 0016 gives them this date; docs/api.md states it. Change a partner's own date with
#: ``carbon-platform feeds legacy-signatures``.
LEGACY_SIGNATURE_DEADLINE = datetime(2027, 4, 1, tzinfo=UTC)


def signature(secret: str, key_id: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``key_id.timestamp.METHOD.path.`` + raw body (path without the query string)."""
    message = f"{key_id}.{timestamp}.{method.upper()}.{path}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def legacy_signature(secret: str, key_id: str, timestamp: str, body: bytes) -> str:
    """The deprecated form, over ``key_id.timestamp.`` + raw body: it does not say which endpoint it is for."""
    message = f"{key_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(key_id: str | None, timestamp: str | None, signed: str | None, body: bytes, *, method: str, path: str,
           now: datetime | None = None) -> Partner:
    """The partner whose live secret signed this request (``method`` to ``path``), or AuthenticationFailed."""
    failure = AuthenticationFailed("the request signature is not valid", code="invalid_signature")
    # ASCII digits, at most 12 (int() takes "²", and refuses 5,000 digits with a ValueError: a 500); a key id
    # short and printable (it is looked up, and PostgreSQL cannot compare a NUL); a signature in ASCII
    # (compare_digest raises a TypeError for a non-ASCII str, and a header may carry any latin-1 byte).
    if (not key_id or not timestamp or not signed or not (timestamp.isascii() and timestamp.isdigit())
            or len(timestamp) > 12 or len(key_id) > 64 or not key_id.isprintable() or not signed.isascii()):
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
    # Check every live secret in both forms (no early exit), so timing does not say which one matched.
    current = [hmac.compare_digest(signature(s.secret, key_id, timestamp, method, path, body), signed)
               for s in partner.live_secrets()]
    legacy = [hmac.compare_digest(legacy_signature(s.secret, key_id, timestamp, body), signed)
              for s in partner.live_secrets()]
    if any(current):
        return partner
    if any(legacy) and partner.legacy_signature_until is not None and now < partner.legacy_signature_until:
        # Operators see who still has to switch before the date.
        current_app.logger.warning("partner %s signed %s %s with the legacy form (accepted until %s)", key_id,
                                   method, path, partner.legacy_signature_until.isoformat())
        return partner
    raise failure
