"""The platform's signature on enterprise statements: Ed25519 (RFC 8032) over a document's canonical JSON.

``canonical(document)`` is the document as JSON with sorted keys, no spaces and UTF-8 text: what is hashed (the
statement's digest) and signed. The key is ``STATEMENT_SIGNING_KEY`` (the 32-byte private key, base64); unset
outside production, it is derived from ``SECRET_KEY`` (HKDF-SHA256), so a development or test instance signs without
set-up, and production refuses to start without one. ``STATEMENT_RETIRED_KEYS`` (public keys, base64) keep
statements signed before a key rotation verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key() -> Ed25519PrivateKey:
    """The configured private key, or (outside production) one derived from the secret key."""
    configured = current_app.config.get("STATEMENT_SIGNING_KEY") or ""
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
            return Ed25519PrivateKey.from_private_bytes(seed)
        except ValueError:
            raise RuntimeError("CARBON_STATEMENT_SIGNING_KEY must be 32 bytes of Ed25519 private key, base64") from None
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"carbon-platform statement signing key").derive(current_app.config["SECRET_KEY"].encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key a genuine statement may be signed with, by id: the signing key's, then the retired ones."""
    current = signing_key().public_key()
    keys = {key_id(current): current}
    for text in current_app.config.get("STATEMENT_RETIRED_KEYS") or ():
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
        keys.setdefault(key_id(key), key)
    return keys


def published_keys() -> list[dict[str, str]]:
    """The public keys as the check page and API publish them (base64 of the raw 32 bytes)."""
    return [{"key_id": key_id, "algorithm": "Ed25519", "public_key": base64.b64encode(_raw(key)).decode(),
             "current": index == 0} for index, (key_id, key) in enumerate(public_keys().items())]


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes that are hashed and signed: sorted keys, no insignificant space, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
