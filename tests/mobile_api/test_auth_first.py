"""Generated from the OpenAPI document: every endpoint that declares security authenticates before it parses
anything. Without credentials, with a bad token or a bad signature, and with a body or query that is invalid
(or not even JSON), it answers 401, writes nothing and says nothing about its schema; every endpoint that
declares none is open (its validation answers instead), so the document and the code agree."""

from __future__ import annotations

import json
import re
import time

from tests.mobile_api.helpers import assert_error, signed
from tests.mobile_api.test_robustness import row_counts

METHODS = ("get", "post", "put", "patch", "delete")
INVALID = {"zz_not_a_field": 1}


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return sorted((path, method, operation) for path, ops in spec["paths"].items() if path.startswith("/api/v1/")
                  for method, operation in ops.items() if method in METHODS)


def security_of(operation: dict) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


def invalid_requests(path: str, method: str, operation: dict):
    """(label, test-client keyword arguments) of requests whose body or query no schema would accept."""
    url = re.sub(r"{\w+}", "1", path)
    if method == "get":
        yield "unknown query field", {"path": url, "query_string": INVALID}
        return
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        yield "upload without its file", {"path": url, "data": {"zz_not_a_field": "x"},
                                          "content_type": "multipart/form-data"}
        return
    yield "unknown field", {"path": url, "data": json.dumps(INVALID), "content_type": "application/json"}
    yield "wrong types", {"path": url, "data": json.dumps({"events": "x", "code": 1, "phone": []}),
                          "content_type": "application/json"}
    yield "malformed JSON", {"path": url, "data": '{"phone": ', "content_type": "application/json"}


def bad_credentials(scheme: str, partner: dict, body: bytes, url: str, method: str) -> dict[str, dict]:
    if scheme == "bearerAuth":
        return {"no token": {}, "bad token": {"Authorization": "Bearer not-a-token"},
                "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"}}
    good = signed(partner["key_id"], partner["secret"], body, url, method=method)
    wrong = signed(partner["key_id"], "ps_not_the_secret", body, url, method=method)
    return {"no signature": {}, "wrong secret": {k: v for k, v in wrong.items() if k != "Content-Type"},
            "stale": {**good, "X-Carbon-Timestamp": str(int(time.time()) - 3600)}}


def test_every_secured_endpoint_answers_401_before_it_parses_anything(app, client, partner):
    spec = client.get("/api/v1/openapi.json").json
    secured = [(p, m, o) for p, m, o in operations(spec) if security_of(o)]
    assert len(secured) >= 30, [p for p, _m, _o in secured]  # the generator found the API
    assert {s for _p, _m, o in secured for s in security_of(o)} == {"bearerAuth", "partnerSignature"}
    checked = 0
    for path, method, operation in secured:
        (scheme,) = security_of(operation)  # each endpoint has exactly one way in
        for case, kwargs in invalid_requests(path, method, operation):
            body = kwargs.get("data", "").encode() if isinstance(kwargs.get("data"), str) else b""
            for credentials, headers in bad_credentials(scheme, partner, body, kwargs["path"], method.upper()).items():
                with app.app_context():
                    before = row_counts()
                response = client.open(method=method.upper(), headers=headers, **kwargs)
                label = f"{method.upper()} {path} with {case} and {credentials}"
                error = assert_error(response, 401,
                                     "invalid_token" if scheme == "bearerAuth" else "invalid_signature")
                assert error["details"] == {}, label  # no field errors: the schema was never applied
                with app.app_context():
                    assert row_counts() == before, f"{label} wrote something"
                checked += 1
    assert checked >= len(secured) * 3


def test_every_open_endpoint_validates_instead(client):
    """The other half of the agreement: an endpoint without declared security does not answer 401 to a
    request without credentials (so none of them authenticates without saying so in the document)."""
    spec = client.get("/api/v1/openapi.json").json
    open_operations = [(p, m, o) for p, m, o in operations(spec) if not security_of(o)]
    assert any(p == "/api/v1/auth/tokens" for p, _m, _o in open_operations)
    for path, method, operation in open_operations:
        for case, kwargs in invalid_requests(path, method, operation):
            response = client.open(method=method.upper(), **kwargs)
            assert response.status_code in (400, 422), f"{method.upper()} {path} with {case}"
