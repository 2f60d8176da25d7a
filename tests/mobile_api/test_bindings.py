"""Bindings must be proven before they match partner data, and events that arrived before are credited once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    Audience,
    Binding,
    BindingKind,
    BindingStatus,
    Partner,
    PartnerEvent,
    PartnerKind,
)
from carbon_platform.services import auth, consent, organisations
from tests import factories as f
from tests.concurrency import run_concurrently
from tests.mobile_api.helpers import assert_error, bind_proven, partner_post, resident_headers, signed
from tests.serving import race, served

BEIJING = timezone(timedelta(hours=8))
CARD = "8801 2345 6789"
REPETITIONS = 20


@pytest.fixture
def bus(app):
    """The bus partner: (id, key id, secret)."""
    with app.app_context():
        seeding.load_reference()
        partner, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                         actor=f.TEST_ACTOR)
        commit()
        return partner.id, partner.key_id, secret


def enter(client, headers, identifier=CARD, kind="transit_card"):
    return client.post("/api/v1/me/bindings", headers=headers, json={"kind": kind, "identifier": identifier})


def code_of(client, headers) -> str:
    return client.post("/api/v1/me/binding-codes", headers=headers, json={}).json["code"]


def confirm(client, bus, code, identifier=CARD):
    return partner_post(client, bus, "/binding-confirmations",
                        {"code": code, "kind": "transit_card", "identifier": identifier})


def authorise(client, headers, bus):
    response = client.post("/api/v1/me/authorisations", headers=headers,
                           json={"partner_id": bus[0], "scenario": "bus_ride"})
    assert response.status_code == 201, response.json


def ride(event_id, *, card=CARD, minutes_ago=30):
    return {"event_id": event_id, "scenario": "bus_ride", "binding": {"kind": "transit_card", "id": card},
            "occurred_at": (datetime.now(BEIJING) - timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat(),
            "inputs": {"distance_km": 6.2}}


def send(client, bus, *events):
    response = partner_post(client, bus, "/events", {"events": list(events)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["status"] for r in response.json["results"]]


def points(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json["balances"]["pending"]


def test_a_number_someone_types_in_stays_pending_and_matches_nothing(client, app, bus):
    headers = resident_headers(client, app)
    entered = enter(client, headers)
    assert entered.status_code == 201
    assert (entered.json["status"], entered.json["awaiting"], entered.json["last4"]) == ("pending", "partner", "6789")
    assert enter(client, headers, "880123456789").json["id"] == entered.json["id"]  # the same number, typed again
    authorise(client, headers, bus)
    assert send(client, bus, ride("r1")) == ["unmatched"]
    # Only a partner can prove a number its holder typed in.
    assert_error(client.post(f"/api/v1/me/bindings/{entered.json['id']}/confirm", headers=headers, json={}), 409,
                 "binding_not_proposed")
    assert points(client, headers) == 0


def test_whether_someone_else_holds_a_number_is_never_revealed(client, app, bus):
    owner, stranger = resident_headers(client, app), resident_headers(client, app)
    bind_proven(client, owner, bus, "transit_card", CARD)
    held, free = enter(client, stranger, CARD), enter(client, stranger, "9900 0000 6789")
    assert held.status_code == free.status_code == 201
    assert {k: v for k, v in held.json.items() if k not in ("id", "created_at")} == \
        {k: v for k, v in free.json.items() if k not in ("id", "created_at")}
    assert set(held.json) == set(free.json)
    authorise(client, owner, bus)
    authorise(client, stranger, bus)
    assert send(client, bus, ride("r1")) == ["credited"]
    assert points(client, owner) == 33 and points(client, stranger) == 0


def test_the_proven_binding_wins_over_a_squatters_pending_one(client, app, bus):
    squatter, owner = resident_headers(client, app), resident_headers(client, app)
    assert enter(client, squatter).json["status"] == "pending"
    authorise(client, squatter, bus)
    authorise(client, owner, bus)
    proven = bind_proven(client, owner, bus, "transit_card", CARD)
    assert client.get("/api/v1/me/bindings", headers=squatter).json == []  # its claim was withdrawn
    assert [b["id"] for b in client.get("/api/v1/me/bindings", headers=owner).json] == [proven["id"]]
    assert send(client, bus, ride("r1")) == ["credited"]
    assert points(client, owner) == 33 and points(client, squatter) == 0
    # The squatter's code cannot take it over: the partner is told the number is held.
    assert enter(client, squatter).json["status"] == "pending"
    assert_error(confirm(client, bus, code_of(client, squatter)), 409, "identifier_taken")
    # Nor can a proposal: partners (who know their own cards) learn it is held; the squatter never does.
    assert_error(partner_post(client, bus, "/bindings", {"code": code_of(client, squatter), "kind": "transit_card",
                                                          "identifier": CARD}), 409, "identifier_taken")


def test_a_partner_confirms_only_with_the_persons_code_and_the_number_they_entered(client, app, bus):
    headers = resident_headers(client, app)
    enter(client, headers)
    assert_error(confirm(client, bus, "WRONGCOD"), 404, "binding_code_invalid")
    code = code_of(client, headers)
    assert_error(confirm(client, bus, code, "5555 0000 0001"), 404, "binding_not_found")  # not what they entered
    confirmed = confirm(client, bus, code)  # the refusal above wrote nothing: the code still works, once
    assert confirmed.status_code == 200 and (confirmed.json["status"], confirmed.json["awaiting"]) == ("active", None)
    assert_error(confirm(client, bus, code), 404, "binding_code_invalid")
    raw = json.dumps({"code": code_of(client, headers), "kind": "transit_card", "identifier": CARD}).encode()
    url = "/api/v1/partner/binding-confirmations"
    assert_error(client.post(url, data=raw.replace(b"8801", b"8802"), headers=signed(bus[1], bus[2], raw, url)),
                 401, "invalid_signature")


def test_a_proposal_of_a_number_the_person_typed_in_awaits_their_confirmation(client, app, bus):
    headers = resident_headers(client, app)
    entered = enter(client, headers).json
    proposed = partner_post(client, bus, "/bindings", {"code": code_of(client, headers), "kind": "transit_card",
                                                        "identifier": CARD})
    assert proposed.status_code == 201
    answer = proposed.json
    assert (answer["id"], answer["status"], answer["awaiting"]) == (entered["id"], "pending", "you")
    confirmed = client.post(f"/api/v1/me/bindings/{entered['id']}/confirm", headers=headers, json={})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"


def test_events_sent_before_the_binding_was_proven_are_credited_once_when_it_is(client, app, bus):
    headers = resident_headers(client, app)
    enter(client, headers)
    authorise(client, headers, bus)
    early = [ride("r1", minutes_ago=90), ride("r2", minutes_ago=60)]
    too_old = ride("r-old", minutes_ago=8 * 24 * 60)  # the rulebook's claim window is seven days
    assert send(client, bus, *early, too_old) == ["unmatched"] * 3
    assert points(client, headers) == 0
    confirm(client, bus, code_of(client, headers))
    assert points(client, headers) == 66
    assert send(client, bus, *early, too_old) == ["duplicate", "duplicate", "duplicate"]  # resends credit nothing more
    # Proven again (a second code, the same partner): nothing is credited twice.
    assert confirm(client, bus, code_of(client, headers)).json["status"] == "active"
    assert points(client, headers) == 66
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(PartnerEvent.event_id, PartnerEvent.status)).all())
        assert statuses == {"r1": "credited", "r2": "credited", "r-old": "unmatched"}
        assert db.session.execute(sa.select(sa.func.count()).select_from(Action)).scalar_one() == 2


def test_events_waiting_for_consent_are_credited_once_when_it_is_given(client, app, bus):
    headers = resident_headers(client, app)
    bind_proven(client, headers, bus, "transit_card", CARD)
    assert send(client, bus, ride("r1")) == ["unmatched"]
    authorise(client, headers, bus)
    assert points(client, headers) == 33
    authorise(client, headers, bus)  # the same consent again: nothing waits any more
    assert points(client, headers) == 33
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Action)).scalar_one() == 1


def test_events_of_a_proposed_binding_wait_for_the_persons_confirmation(client, app, bus):
    headers = resident_headers(client, app)
    authorise(client, headers, bus)
    proposed = partner_post(client, bus, "/bindings", {"code": code_of(client, headers), "kind": "transit_card",
                                                        "identifier": CARD}).json
    assert send(client, bus, ride("r1")) == ["unmatched"]
    client.post(f"/api/v1/me/bindings/{proposed['id']}/confirm", headers=headers, json={})
    assert points(client, headers) == 33


# --- Races -------------------------------------------------------------------------------------------------


def _residents(app, count: int) -> list[tuple[dict, int]]:
    with app.app_context():
        people = [f.resident() for _ in range(count)]
        pairs = [({"Authorization": f"Bearer {auth.issue_tokens(Audience.RESIDENT, p.id).access_token}"},
                  p.account_id) for p in people]
        commit()
    return pairs


@pytest.mark.concurrency
def test_two_residents_entering_one_card_at_once_both_get_a_pending_binding(app, bus):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            (a, a_account), (b, b_account) = _residents(app, 2)
            card = f"7700 {repetition:04d} 0001"
            body = {"kind": "transit_card", "identifier": card}
            results = race(address, [("POST", "/api/v1/me/bindings", h, body) for h in (a, b, a)])
            assert [status for status, _ in results] == [201, 201, 201], (repetition, results)
            assert all(answer["status"] == "pending" for _, answer in results), repetition
            assert results[0][1]["id"] == results[2][1]["id"] != results[1][1]["id"], repetition  # one each
            with app.app_context():
                owners = db.session.execute(sa.select(Binding.account_id).where(
                    Binding.identifier_hash == consent.identifier_hash(BindingKind.TRANSIT_CARD, card))).scalars()
                assert sorted(owners) == sorted([a_account, b_account]), repetition


@pytest.mark.concurrency
def test_a_binding_code_used_ten_times_at_once_works_once(app, bus):
    for repetition in range(REPETITIONS):
        ((_headers, account_id),) = _residents(app, 1)
        with app.app_context():
            _record, code = consent.issue_binding_code(account_id)
            commit()

        def propose(i, code=code, repetition=repetition):
            partner = db.session.get(Partner, bus[0])
            return consent.propose_binding(partner, code, BindingKind.TRANSIT_CARD, f"66{repetition:04d}{i:04d}").id

        outcomes = run_concurrently(app, propose, 10)
        assert not outcomes.errors, (repetition, outcomes.errors[:2])
        assert len(outcomes.ok) == 1 and outcomes.refused_codes == {"binding_code_invalid": 9}, repetition
        with app.app_context():
            assert db.session.execute(sa.select(sa.func.count()).select_from(Binding)
                                      .where(Binding.account_id == account_id)).scalar_one() == 1


@pytest.mark.concurrency
def test_two_proofs_of_one_card_at_once_leave_one_proven_binding(app, bus):
    for repetition in range(REPETITIONS):
        card = f"5500{repetition:04d}"
        people = _residents(app, 2)
        with app.app_context():
            codes = []
            for _headers, account_id in people:
                consent.add_binding(account_id, BindingKind.TRANSIT_CARD, card)
                codes.append(consent.issue_binding_code(account_id)[1])
            commit()

        def prove(i, codes=codes, card=card):
            partner = db.session.get(Partner, bus[0])
            return consent.confirm_by_partner(partner, codes[i], BindingKind.TRANSIT_CARD, card).account_id

        outcomes = run_concurrently(app, prove, 2)
        assert not outcomes.errors, (repetition, outcomes.errors[:2])
        assert len(outcomes.ok) == 1 and outcomes.refused_codes == {"identifier_taken": 1}, repetition
        with app.app_context():
            live = db.session.execute(sa.select(Binding.account_id, Binding.status).where(
                Binding.identifier_hash == consent.identifier_hash(BindingKind.TRANSIT_CARD, card),
                Binding.status != BindingStatus.REVOKED)).all()
            assert live == [(outcomes.ok[0], BindingStatus.ACTIVE)], repetition


@pytest.mark.concurrency
def test_a_proof_and_a_consent_at_once_credit_the_waiting_events_once(app, client, bus):
    for repetition in range(REPETITIONS):
        ((headers, account_id),) = _residents(app, 1)
        card = f"4400{repetition:04d}"
        with app.app_context():
            consent.add_binding(account_id, BindingKind.TRANSIT_CARD, card)
            _record, code = consent.issue_binding_code(account_id)
            commit()
        assert send(client, bus, ride(f"w{repetition}", card=card)) == ["unmatched"]

        def act(i, code=code, card=card, account_id=account_id):
            partner = db.session.get(Partner, bus[0])
            if i == 0:
                return consent.confirm_by_partner(partner, code, BindingKind.TRANSIT_CARD, card).id
            return consent.grant(account_id, partner, "bus_ride", frozenset({"partner:transit"})).id

        outcomes = run_concurrently(app, act, 2)
        assert not outcomes.errors and not outcomes.refused, (repetition, outcomes.errors[:2], outcomes.refused)
        assert points(client, headers) == 33, repetition


def test_the_sweep_credits_an_event_that_raced_its_bindings_proof_once(client, app, bus):
    headers = resident_headers(client, app)
    entered = enter(client, headers).json
    authorise(client, headers, bus)
    assert send(client, bus, ride("r1")) == ["unmatched"]
    with app.app_context():  # what a proof leaves when the event's batch was uncommitted while it looked
        db.session.execute(sa.update(Binding).where(Binding.id == entered["id"]).values(status=BindingStatus.ACTIVE))
        commit()
    runner = app.test_cli_runner()
    assert "credited 1 waiting event(s)" in runner.invoke(args=["feeds", "settle-waiting"]).output
    assert "credited 0 waiting event(s)" in runner.invoke(args=["feeds", "settle-waiting"]).output
    assert points(client, headers) == 33
