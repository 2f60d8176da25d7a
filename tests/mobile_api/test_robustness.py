"""Generated from the URL map: every unsafe /api/v1 endpoint answers bad bodies with a 4xx in the one
error shape and writes nothing; the OpenAPI document and its UI are complete and local."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import PartnerKind
from carbon_platform.services import households, organisations
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, resident_headers, signed, tokens

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
WRONG_VALUE = {"string": 12345, "integer": "12", "number": "1.5", "boolean": "yes", "array": "x", "object": "x"}


def api_operations(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods & UNSAFE
    )


def row_counts() -> dict[str, int]:
    return {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}


@pytest.fixture
def world(app, client):
    """A resident in a household, a merchant cashier and an enterprise's contact, all logged in, and a partner
    with its signing secret: each endpoint gets past authentication, so its validation is what answers."""
    resident = resident_headers(client, app)
    with app.app_context():
        f.districts()
        from carbon_platform.models import Resident

        someone = db.session.execute(sa.select(Resident)).scalar_one()
        household = households.create_household(someone, name="家", address="泰山区", district_code="370902")
        cashier = f.staff(f.merchant())
        company = f.enterprise()
        partner, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                         actor=f.TEST_ACTOR)
        ids = {"household_id": household.id, "cashier_phone": cashier.phone.removeprefix("+86"),
               "contact_phone": company.contact_phone.removeprefix("+86")}
        commit()
        partner = {"key_id": partner.key_id, "secret": secret}
    staff = bearer(tokens(client, app, ids["cashier_phone"], prefix="/api/v1/merchant/auth"))
    enterprise = bearer(tokens(client, app, ids["contact_phone"], prefix="/api/v1/enterprise/auth"))
    return {"resident": resident, "staff": staff, "enterprise": enterprise, "partner": partner, "ids": ids}


def credentials(world: dict, path: str, kwargs: dict, url: str, method: str) -> dict:
    """The headers that get a request to ``path`` past authentication (partners sign the exact body, so a
    ``json`` case becomes the bytes that are signed)."""
    if path.startswith("/api/v1/partner/"):
        if "json" in kwargs:
            kwargs.update(data=json.dumps(kwargs.pop("json")), content_type="application/json")
        headers = signed(world["partner"]["key_id"], world["partner"]["secret"], kwargs["data"].encode(), url,
                         method=method.upper())
        headers.pop("Content-Type")  # each case sends its own
        return headers
    for prefix, holder in (("/api/v1/merchant/", "staff"), ("/api/v1/enterprise/", "enterprise")):
        if path.startswith(prefix):
            return world[holder]
    return world["resident"]


def concrete(path: str, ids: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), path)


def request_body_properties(spec: dict, path: str, method: str) -> dict:
    openapi_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    operation = spec["paths"][openapi_path][method.lower()]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("properties", {})


def takes_uploads(spec: dict, path: str, method: str) -> bool:
    operation = spec["paths"][re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)][method.lower()]
    return "multipart/form-data" in operation.get("requestBody", {}).get("content", {})


def bad_requests(app, spec, path, method):
    limit = app.config["MAX_JSON_BYTES"]
    if takes_uploads(spec, path, method):  # an upload endpoint takes multipart only: any JSON is 415
        for case in ("malformed JSON", "unknown field", "not an object", "oversize", "wrong content type"):
            yield case, {"json": {"zz_not_a_field": 1}}, 415, "unsupported_media_type"
        return
    wrong = {name: WRONG_VALUE.get(prop.get("type"), []) for name, prop in
             request_body_properties(spec, path, method).items()}
    yield "malformed JSON", {"data": '{"phone": ', "content_type": "application/json"}, 400, "malformed_json"
    yield "unknown field", {"json": {"zz_not_a_field": 1}}, 422, "validation_error"
    yield "not an object", {"json": [1, 2, 3]}, 422, "validation_error"
    if wrong:
        yield "wrong types", {"json": wrong}, 422, "validation_error"
    yield "oversize", {"data": '{"x": "' + "x" * limit + '"}', "content_type": "application/json"}, 413, None
    yield "wrong content type", {"data": "phone=1", "content_type": "text/plain"}, 415, "unsupported_media_type"


def test_every_unsafe_endpoint_refuses_bad_bodies_and_writes_nothing(app, client, world):
    operations = api_operations(app)
    assert len(operations) >= 12, operations  # the generator found the API
    spec = client.get("/api/v1/openapi.json").json
    checked = 0
    for path, method in operations:
        url = concrete(path, world["ids"])
        for case, kwargs, status, code in bad_requests(app, spec, path, method):
            headers = credentials(world, path, kwargs, url, method)
            with app.app_context():
                before = row_counts()
            response = client.open(url, method=method, headers=headers, **kwargs)
            label = f"{method} {path} with {case}"
            assert 400 <= response.status_code < 500, label
            body = assert_error(response, status, code)
            if case == "unknown field" and status == 422:
                assert body["details"]["json"]["zz_not_a_field"] == ["Unknown field."], label
            with app.app_context():
                assert row_counts() == before, f"{label} wrote something"
            checked += 1
    assert checked >= len(operations) * 5


def test_unknown_routes_and_methods_answer_in_the_error_shape(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    response = client.put("/api/v1/me", json={})
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response.headers["Allow"]


def test_openapi_document_describes_every_endpoint_with_bearer_security(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and spec["info"]["version"] == "v1"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    documented = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops if m.upper() in UNSAFE | {"GET"}}
    routed = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), m)
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and "openapi" not in r.rule
              for m in r.methods & (UNSAFE | {"GET"})}
    assert routed <= documented
    protected = spec["paths"]["/api/v1/me"]["get"]
    assert protected["security"] == [{"bearerAuth": []}]
    assert "Error" in spec["components"]["schemas"]


def test_the_api_docs_page_loads_everything_from_our_own_static_files(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/api/static/vendor/swagger-ui/") for a in assets), assets
    assert "//" not in "".join(a.removeprefix("/") for a in assets)  # no protocol-relative CDN either
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200 and len(response.data) > 1000, asset
