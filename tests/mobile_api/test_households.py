"""Households through the API: create, invite, join, view, hand over, leave — and privacy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, HouseholdInvitation, HouseholdMembership
from carbon_platform.services import auth, households
from tests import factories as f
from tests.mobile_api.helpers import assert_error, resident_headers
from tests.serving import race, served


@pytest.fixture
def districts(app):
    with app.app_context():
        f.districts()
        commit()


@pytest.fixture
def people(client, app, districts):
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


# -- races over real HTTP (both databases, each repeated 20 times) --------------------------------------

REPETITIONS = 20


def _household_of(size: int) -> tuple[int, object]:
    """(id, head) of a new household with ``size`` members, head included (inside an app context)."""
    head = f.resident()
    household = households.create_household(head, name="泰山区一家", address="泰山区红门路 18 号",
                                            district_code="370902")
    for _ in range(size - 1):
        households.join(f.resident(), households.invite(head, household.id).code)
    return household.id, head


def _resident_token() -> dict:
    return {"Authorization": f"Bearer {auth.issue_tokens(Audience.RESIDENT, f.resident().id).access_token}"}


def _members(app, household_id: int) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(HouseholdMembership)
                                  .where(HouseholdMembership.household_id == household_id)).scalar_one()


@pytest.mark.concurrency
def test_one_invitation_code_used_by_ten_residents_at_once_lets_exactly_one_in(app, districts):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                household_id, head = _household_of(1)
                code = households.invite(head, household_id).code
                crowd = [_resident_token() for _ in range(10)]
                commit()
            results = race(address, [("POST", "/api/v1/households/join", h, {"code": code}) for h in crowd])
            statuses = sorted(status for status, _ in results)
            codes = {body["error"]["code"] for status, body in results if status != 200}
            assert statuses == [200] + [404] * 9, f"repetition {repetition}: {statuses}"
            assert codes == {"invitation_invalid"}, f"repetition {repetition}"
            assert _members(app, household_id) == 2


@pytest.mark.concurrency
def test_different_codes_joined_at_once_never_take_a_household_past_its_cap(app, districts):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                household_id, head = _household_of(households.MAX_MEMBERS - 2)  # room for two more
                joins = [("POST", "/api/v1/households/join", _resident_token(),
                          {"code": households.invite(head, household_id).code}) for _ in range(6)]
                commit()
            results = race(address, joins)
            statuses = sorted(status for status, _ in results)
            codes = {body["error"]["code"] for status, body in results if status != 200}
            assert statuses == [200] * 2 + [409] * 4, f"repetition {repetition}: {statuses}"
            assert codes == {"household_full"}, f"repetition {repetition}"
            assert _members(app, household_id) == households.MAX_MEMBERS


@pytest.mark.concurrency
def test_one_resident_joining_two_households_at_once_ends_in_exactly_one(app, districts):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                issued = [households.invite(head, household_id)
                          for household_id, head in (_household_of(1), _household_of(1))]
                codes, ids = [i.code for i in issued], [i.invitation.id for i in issued]
                headers = _resident_token()
                commit()
            results = race(address, [("POST", "/api/v1/households/join", headers, {"code": c}) for c in codes])
            statuses = sorted(status for status, _ in results)
            assert statuses == [200, 409], f"repetition {repetition}: {results}"
            assert [b["error"]["code"] for s, b in results if s == 409] == ["already_in_household"]
            with app.app_context():
                spent = db.session.execute(
                    sa.select(sa.func.count()).select_from(HouseholdInvitation)
                    .where(HouseholdInvitation.id.in_(ids),
                           HouseholdInvitation.accepted_at.is_not(None))).scalar_one()
            assert spent == 1, "the refused join leaves its code unspent"


def test_one_resident_creating_a_household_twice_at_once_ends_in_exactly_one(app, districts):
    body = {"name": "红门路一家", "address": "泰山区红门路 18 号", "district": "370902"}
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                headers = _resident_token()
                commit()
            results = race(address, [("POST", "/api/v1/households", headers, body)] * 2)
            statuses = sorted(status for status, _ in results)
            assert statuses == [201, 409], f"repetition {repetition}: {results}"
            assert [b["error"]["code"] for s, b in results if s == 409] == ["already_in_household"]
            with app.app_context():
                created = db.session.execute(
                    sa.select(sa.func.count()).select_from(HouseholdMembership)
                    .where(HouseholdMembership.household_id.in_([b["id"] for s, b in results if s == 201]))
                ).scalar_one()
            assert created == 1


def test_creating_a_household_while_joining_another_at_once_ends_in_exactly_one(app, districts):
    body = {"name": "红门路一家", "address": "泰山区红门路 18 号", "district": "370902"}
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                household_id, head = _household_of(1)
                code = households.invite(head, household_id).code
                headers = _resident_token()
                commit()
            results = race(address, [("POST", "/api/v1/households", headers, body),
                                     ("POST", "/api/v1/households/join", headers, {"code": code})])
            statuses = sorted(status for status, _ in results)
            assert statuses in ([200, 409], [201, 409]), f"repetition {repetition}: {results}"
