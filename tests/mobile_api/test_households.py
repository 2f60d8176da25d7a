"""Households through the API: create, invite, join, view, hand over, leave — and privacy."""

from __future__ import annotations

import pytest

from carbon_platform.db import commit
from tests import factories as f
from tests.mobile_api.helpers import assert_error, resident_headers


@pytest.fixture
def people(client, app):
    with app.app_context():
        f.districts()
        commit()
    return {name: resident_headers(client, app) for name in ("head", "member", "stranger")}


def create(client, headers, name="红门路一家"):
    response = client.post("/api/v1/households", headers=headers,
                           json={"name": name, "address": "泰山区红门路 18 号", "district": "370902"})
    assert response.status_code == 201, response.json
    return response.json


def invite(client, headers, household_id, **body):
    response = client.post(f"/api/v1/households/{household_id}/invitations", headers=headers, json=body)
    assert response.status_code == 201, response.json
    return response.json["code"]


def test_create_invite_join_and_see_members_totals(client, people):
    household = create(client, people["head"])
    assert household["my_role"] == "head" and household["district"]["code"] == "370902"
    code = invite(client, people["head"], household["id"])
    joined = client.post("/api/v1/households/join", headers=people["member"], json={"code": code.lower()})
    assert joined.status_code == 200 and joined.json["my_role"] == "member"
    assert [m["role"] for m in joined.json["members"]] == ["head", "member"]
    assert joined.json["total_grams"] == 0
    me = client.get("/api/v1/me", headers=people["member"]).json
    assert me["household"] == {"id": household["id"], "name": "红门路一家", "role": "member"}


def test_an_invitation_works_once(client, people):
    household = create(client, people["head"])
    code = invite(client, people["head"], household["id"])
    assert client.post("/api/v1/households/join", headers=people["member"], json={"code": code}).status_code == 200
    assert_error(client.post("/api/v1/households/join", headers=people["stranger"], json={"code": code}), 404,
                 "invitation_invalid")


def test_an_invitation_for_a_phone_only_works_for_that_phone(client, app, people):
    household = create(client, people["head"])
    member_phone = client.get("/api/v1/me", headers=people["member"]).json["phone"]
    code = invite(client, people["head"], household["id"], phone=member_phone)
    assert_error(client.post("/api/v1/households/join", headers=people["stranger"], json={"code": code}), 404)
    assert client.post("/api/v1/households/join", headers=people["member"], json={"code": code}).status_code == 200


def test_one_household_per_resident(client, people):
    create(client, people["head"])
    assert_error(client.post("/api/v1/households", headers=people["head"],
                             json={"name": "第二个家", "address": "x", "district": "370902"}), 409,
                 "already_in_household")


def test_only_the_head_invites_and_the_head_hands_over_before_leaving(client, people):
    household = create(client, people["head"])
    code = invite(client, people["head"], household["id"])
    client.post("/api/v1/households/join", headers=people["member"], json={"code": code})
    hid = household["id"]
    assert_error(client.post(f"/api/v1/households/{hid}/invitations", headers=people["member"], json={}), 403)
    assert_error(client.post(f"/api/v1/households/{hid}/leave", headers=people["head"], json={}), 409,
                 "head_must_transfer")
    member_id = client.get("/api/v1/me", headers=people["member"]).json["id"]
    handed = client.post(f"/api/v1/households/{hid}/head", headers=people["head"], json={"resident_id": member_id})
    assert {m["resident_id"]: m["role"] for m in handed.json["members"]}[member_id] == "head"
    assert client.post(f"/api/v1/households/{hid}/leave", headers=people["head"], json={}).status_code == 204
    assert client.get("/api/v1/me", headers=people["head"]).json["household"] is None


def test_another_households_objects_answer_exactly_like_missing_ones(client, people):
    household = create(client, people["head"])
    hid, missing = household["id"], household["id"] + 1000
    for method, path, body in (
        ("get", "/api/v1/households/{}", None),
        ("post", "/api/v1/households/{}/invitations", {}),
        ("post", "/api/v1/households/{}/head", {"resident_id": 1}),
        ("post", "/api/v1/households/{}/leave", {}),
    ):
        theirs = getattr(client, method)(path.format(hid), headers=people["stranger"], json=body)
        nothing = getattr(client, method)(path.format(missing), headers=people["stranger"], json=body)
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json == nothing.json
