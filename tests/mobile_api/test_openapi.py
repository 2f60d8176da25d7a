"""The OpenAPI document is exact: a client generated from it (openapi-python-client) gets typed models, every
operation has a unique operationId, response fields are required, and X-Pagination is described as JSON text."""

from __future__ import annotations

import importlib
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Resident
from carbon_platform.services import accounts, households
from tests import factories as f
from tests.mobile_api.helpers import sms_code
from tests.serving import served

PACKAGE = "carbon_client"
#: No post-hooks: the generator would otherwise look for ruff on PATH and reformat; the code runs as generated.
GENERATOR_CONFIG = f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\npost_hooks: []\n"
OPERATIONS = ("get", "put", "post", "delete", "patch")


def spec_of(client) -> dict:
    return client.get("/api/v1/openapi.json").json


def resolve(spec: dict, schema: dict) -> tuple[str | None, dict]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name, spec["components"]["schemas"][name]
    return None, schema


def response_schemas(spec: dict) -> dict[str, dict]:
    """Every named schema reachable from a successful JSON response, through arrays and nested objects."""
    found: dict[str, dict] = {}
    todo = [media["schema"] for ops in spec["paths"].values() for method, op in ops.items() if method in OPERATIONS
            for status, response in op["responses"].items() if status.startswith("2") and "content" in response
            for media in response["content"].values() if "schema" in media]
    while todo:
        name, schema = resolve(spec, todo.pop())
        if name in found:
            continue
        if name:
            found[name] = schema
        todo += [schema["items"]] if "items" in schema else []
        todo += [p for prop in schema.get("properties", {}).values() for p in [prop, *prop.get("allOf", [])]
                 if "$ref" in p or "items" in p]
        todo += [prop["items"] for prop in schema.get("properties", {}).values() if "items" in prop]
    return found


def test_every_operation_has_a_unique_operation_id(client):
    spec = spec_of(client)
    ids = [op.get("operationId") for ops in spec["paths"].values() for method, op in ops.items()
           if method in OPERATIONS]
    assert len(ids) >= 40 and all(ids), ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert spec["paths"]["/api/v1/rewards/{reward_id}/redemptions"]["post"]["operationId"] == "rewards_redeem"


def test_response_fields_are_required_nullable_models_typed_and_the_pagination_header_is_json_text(client):
    spec = spec_of(client)
    schemas = response_schemas(spec)
    assert {"Me", "Balances", "Reward", "Voucher", "TokenPair", "Action", "Receipt", "Factor"} <= set(schemas)
    for name, schema in schemas.items():
        assert set(schema.get("required", ())) == set(schema["properties"]), name
    me = spec["components"]["schemas"]["Me"]["properties"]
    assert me["household"] == {"allOf": [{"$ref": "#/components/schemas/MyHousehold"}], "nullable": True}
    assert me["district"] == {"allOf": [{"$ref": "#/components/schemas/District"}], "nullable": True}
    assert spec["components"]["schemas"]["TokenPair"]["properties"]["token_type"]["type"] == "string"
    receipt = spec["components"]["schemas"]["Receipt"]["properties"]
    assert spec["components"]["schemas"]["ActionDetail"]["properties"]["receipt"]["allOf"] == [
        {"$ref": "#/components/schemas/Receipt"}]  # a typed model, no longer "any object"
    assert receipt["inputs"]["additionalProperties"]["type"] == "number"
    assert receipt["steps"]["items"]["items"] == {"oneOf": [{"type": "string"}, {"type": "number"}]}
    header = spec["paths"]["/api/v1/rewards"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    assert "schema" not in header  # OpenAPI 3.0: a header has a schema or a content, never both
    assert header["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}}


def generate_client(base_url: str, folder):
    """Fetch the served document, generate a client package from it into ``folder`` and import it."""
    with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json", timeout=30) as response:
        (folder / "openapi.json").write_bytes(response.read())
    (folder / "config.yaml").write_text(GENERATOR_CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(folder / "openapi.json"),
         "--meta", "none", "--output-path", str(folder / PACKAGE), "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    return importlib.import_module(PACKAGE)


def test_a_client_generated_from_the_served_document_logs_in_reads_me_browses_and_redeems(app, tmp_path):
    with app.app_context():
        seeding.load_reference()
        reward_id = f.reward(f.merchant(), stock=3, points_price=300).id
        commit()
    phone = f.phone()
    try:
        with served(app) as (host, port):
            base_url = f"http://{host}:{port}"
            generate_client(base_url, tmp_path)
            from carbon_client import AuthenticatedClient, Client
            from carbon_client.api.auth import auth_log_in, auth_send_code
            from carbon_client.api.me import me_get_me
            from carbon_client.api.rewards import rewards_list_rewards, rewards_redeem
            from carbon_client.models import (
                Balances,
                CodeRequest,
                CodeSent,
                District,
                Me,
                MyHousehold,
                NoBody,
                Reward,
                TokenPair,
                TokenRequest,
                Voucher,
            )

            anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
            assert isinstance(auth_send_code.sync(client=anonymous, body=CodeRequest(phone=phone)), CodeSent)
            pair = auth_log_in.sync(client=anonymous, body=TokenRequest(phone=phone, code=sms_code(app, phone)))
            assert isinstance(pair, TokenPair) and pair.token_type.value == "Bearer"
            resident = AuthenticatedClient(base_url=base_url, token=pair.access_token,
                                           raise_on_unexpected_status=True)

            me = me_get_me.sync(client=resident)
            assert isinstance(me, Me) and isinstance(me.balances, Balances)
            assert me.household is None and me.district is None and me.balances.available == 0

            with app.app_context():
                someone = db.session.execute(sa.select(Resident)).scalar_one()
                f.fund(someone.account_id, 500)
                f.fund(someone.account_id, 50, hold_days=2)
                accounts.update_profile(someone, district_code="370902")
                households.create_household(someone, name="我家", address="泰山区", district_code="370902")
                commit()
            me = me_get_me.sync(client=resident)
            assert isinstance(me.household, MyHousehold) and me.household.role == "head"
            assert isinstance(me.district, District) and me.district.code == "370902"
            assert me.balances.available == 500 and me.balances.pending == 50
            assert me.balances.next_release_at - datetime.now(UTC) > timedelta(days=1)  # an aware datetime

            mall = rewards_list_rewards.sync(client=resident)
            assert [type(r) for r in mall] == [Reward] and mall[0].id == reward_id and mall[0].points_price == 300
            voucher = rewards_redeem.sync(reward_id, client=resident, body=NoBody(), idempotency_key="gen-1")
            assert isinstance(voucher, Voucher) and (voucher.points, voucher.status) == (300, "issued")
            assert voucher.expires_at - voucher.issued_at == timedelta(days=30)  # datetimes, not strings
            assert me_get_me.sync(client=resident).balances.available == 200
    finally:
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]  # the other database's run generates and imports its own copy
