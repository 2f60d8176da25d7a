"""Log in through the real API (the SMS code is read from the in-memory sender)."""

from __future__ import annotations

import json
import re

from carbon_platform.services.identity import normalise_phone
from tests import factories as f


def sms_code(app, phone: str) -> str:
    message = app.extensions["sms_sender"].last_to(normalise_phone(phone))
    return re.search(r"\d{6}", message).group()


def tokens(client, app, phone: str | None = None, *, prefix: str = "/api/v1/auth", **extra) -> dict:
    phone = phone or f.phone()
    assert client.post(f"{prefix}/codes", json={"phone": phone}).status_code == 202
    response = client.post(f"{prefix}/tokens", json={"phone": phone, "code": sms_code(app, phone), **extra})
    assert response.status_code == 201, response.json
    return response.json


def bearer(token_body: dict) -> dict:
    return {"Authorization": f"Bearer {token_body['access_token']}"}


def resident_headers(client, app, phone: str | None = None) -> dict:
    return bearer(tokens(client, app, phone))


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape of every /api/ response."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json["error"]
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == status and isinstance(body["message"], str) and body["message"]
    if code:
        assert body["code"] == code, body
    return body


def signed(key_id: str, secret: str, body: bytes, path: str, *, method: str = "POST",
           timestamp: int | None = None) -> dict:
    """Headers of a partner request to ``method path``, signed over key_id.timestamp.METHOD.path.raw_body."""
    import time

    from carbon_platform.services.partner_auth import signature

    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Carbon-Key-Id": key_id, "X-Carbon-Timestamp": stamp,
            "X-Carbon-Signature": signature(secret, key_id, stamp, method, path, body),
            "Content-Type": "application/json"}


def partner_post(client, partner: tuple, path: str, body: dict):
    """A signed partner request; ``partner`` is (id, key id, secret)."""
    _id, key_id, secret = partner
    raw, url = json.dumps(body).encode(), f"/api/v1/partner{path}"
    return client.post(url, data=raw, headers=signed(key_id, secret, raw, url))


def bind_proven(client, headers: dict, partner: tuple, kind: str, identifier: str) -> dict:
    """A binding proven as in real life: the resident enters the number, shows the partner a binding code,
    and the partner confirms it (signed). ``partner`` is (id, key id, secret)."""
    entered = client.post("/api/v1/me/bindings", headers=headers, json={"kind": kind, "identifier": identifier})
    assert entered.status_code == 201 and entered.json["status"] in ("pending", "active"), entered.json
    code = client.post("/api/v1/me/binding-codes", headers=headers, json={}).json["code"]
    confirmed = partner_post(client, partner, "/binding-confirmations",
                             {"code": code, "kind": kind, "identifier": identifier})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active", confirmed.get_data(as_text=True)
    return confirmed.json
