"""A household binds its electricity meter and authorises the utility; the utility's monthly readings credit the
household's account for electricity_saving (rulebook 2026.3: the same billing month a year earlier, sent by the
utility), once, and never a member's account."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    Authorisation,
    Binding,
    BindingKind,
    BindingStatus,
    CarbonAccount,
    Household,
    PartnerKind,
)
from carbon_platform.services import consent, organisations, rulebooks
from points_rules import parse_yaml
from tests import factories as f
from tests.concurrency import run_concurrently
from tests.mobile_api.helpers import assert_error, partner_post, resident_headers

BEIJING = timezone(timedelta(hours=8))
METER = "3709 0012 3456"
OTHER_METER = "3709 0099 8877"
GRID = 641  # g/kWh: the Shandong factor of 2022, in force since 2024-12-20
# One reading time for the whole module: an event resent must be the same event to the second (a body that differs
# under the same event id is refused), and the seconds of "now" may tick between two sends.
READ_AT = (datetime.now(BEIJING) - timedelta(minutes=30)).replace(microsecond=0)


@pytest.fixture
def world(app, client):
    """Rulebook 2026.3 in force, a utility partner, and a household (head and member) with a stranger."""
    with app.app_context():
        seeding.load_reference()
        source = resources.files("seeds").joinpath("rulebook-2026.3.yaml").read_text(encoding="utf-8")
        rulebooks.publish(parse_yaml(source)[0], effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        record, secret = organisations.register_partner(name="国网泰安供电公司", kind=PartnerKind.UTILITY,
                                                        actor=f.TEST_ACTOR)
        commit()
        utility = (record.id, record.key_id, secret)
    people = {name: resident_headers(client, app) for name in ("head", "member", "stranger")}
    household = client.post("/api/v1/households", headers=people["head"],
                            json={"name": "红门路一家", "address": "泰山区红门路 18 号", "district": "370902"}).json
    code = client.post(f"/api/v1/households/{household['id']}/invitations", headers=people["head"],
                       json={}).json["code"]
    assert client.post("/api/v1/households/join", headers=people["member"], json={"code": code}).status_code == 200
    return {"utility": utility, "household": household["id"], **people}


def url(world, rest: str = "") -> str:
    return f"/api/v1/households/{world['household']}{rest}"


def enter(client, world, identifier=METER, who="head"):
    return client.post(url(world, "/bindings"), headers=world[who], json={"identifier": identifier})


def household_code(client, world) -> str:
    response = client.post(url(world, "/binding-codes"), headers=world["head"], json={})
    assert response.status_code == 201, response.json
    return response.json["code"]


def utility_confirms(client, world, identifier=METER):
    return partner_post(client, world["utility"], "/binding-confirmations",
                        {"code": household_code(client, world), "kind": "electricity_meter", "identifier": identifier})


def bind(client, world, identifier=METER) -> dict:
    assert enter(client, world, identifier).status_code == 201
    confirmed = utility_confirms(client, world, identifier)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active", confirmed.json
    return confirmed.json


def authorise(client, world, who="head"):
    return client.post(url(world, "/authorisations"), headers=world[who],
                       json={"partner_id": world["utility"][0], "scenario": "electricity_saving"})


def reading(event_id, *, baseline=300, actual=260, meter=METER, when=None, fact=None, **extra):
    inputs = {"actual_kwh": actual, **({} if baseline is None else {"baseline_kwh": baseline})}
    return {"event_id": event_id, "scenario": "electricity_saving",
            "binding": {"kind": "electricity_meter", "id": meter},
            "occurred_at": (when or READ_AT).replace(microsecond=0).isoformat(),
            "inputs": inputs, "fact_id": fact or f"meter:{meter}:{event_id}", **extra}


def send(client, world, *events) -> list[dict]:
    response = partner_post(client, world["utility"], "/events", {"events": list(events)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["results"]


def balances(app, client, world) -> dict:
    """Points (pending, as new credits are) and grams of the household's account and of each member's."""
    with app.app_context():
        household = db.session.get(Household, world["household"])
        figures = {"household": (household.account.points_pending, household.account.reduction_grams)}
    for who in ("head", "member"):
        me = client.get("/api/v1/me", headers=world[who]).json
        figures[who] = (me["balances"]["pending"], me["reduction"]["lifetime_grams"])
    return figures


# --- Binding ----------------------------------------------------------------------------------------------


def test_the_head_binds_the_meter_to_the_household_with_the_utilitys_proof(app, client, world):
    entered = enter(client, world)
    assert entered.status_code == 201
    assert (entered.json["kind"], entered.json["status"], entered.json["awaiting"], entered.json["last4"]) == \
        ("electricity_meter", "pending", "partner", "3456")
    assert enter(client, world, "370900123456").json["id"] == entered.json["id"]  # the same meter, typed again
    # Only the utility proves a number the head typed in.
    assert_error(client.post(url(world, f"/bindings/{entered.json['id']}/confirm"), headers=world["head"], json={}),
                 409, "binding_not_proposed")
    confirmed = utility_confirms(client, world)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"
    with app.app_context():
        household = db.session.get(Household, world["household"])
        binding = db.session.get(Binding, entered.json["id"])
        assert binding.account_id == household.account_id  # the household's account, not the head's
    # Every member sees it, masked; only the head changes it.
    seen = client.get(url(world, "/bindings"), headers=world["member"])
    assert [(b["last4"], b["status"]) for b in seen.json] == [("3456", "active")]
    assert "identifier" not in seen.json[0] and "identifier_hash" not in seen.json[0]
    assert_error(enter(client, world, OTHER_METER, who="member"), 403, "forbidden")
    assert_error(client.delete(url(world, f"/bindings/{entered.json['id']}"), headers=world["member"], json={}), 403)
    assert_error(client.post(url(world, "/binding-codes"), headers=world["member"], json={}), 403)
    for path in ("/bindings", "/authorisations", "/partners"):
        assert_error(client.get(url(world, path), headers=world["stranger"]), 404)
    assert_error(enter(client, world, who="stranger"), 404)
    assert client.get("/api/v1/me/bindings", headers=world["head"]).json == []  # nothing on the head's own account


def test_a_meter_the_utility_proposes_awaits_the_heads_confirmation(client, world):
    proposed = partner_post(client, world["utility"], "/bindings",
                            {"code": household_code(client, world), "kind": "electricity_meter", "identifier": METER})
    assert proposed.status_code == 201 and (proposed.json["status"], proposed.json["awaiting"]) == ("pending", "you")
    assert_error(client.post(url(world, f"/bindings/{proposed.json['id']}/confirm"), headers=world["member"],
                             json={}), 403)
    confirmed = client.post(url(world, f"/bindings/{proposed.json['id']}/confirm"), headers=world["head"], json={})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"


def test_one_meter_per_household_and_one_household_per_meter(app, client, world):
    first = bind(client, world)
    assert_error(enter(client, world, OTHER_METER), 409, "household_has_meter")
    assert_error(partner_post(client, world["utility"], "/bindings", {
        "code": household_code(client, world), "kind": "electricity_meter", "identifier": OTHER_METER}),
        409, "household_has_meter")
    # Another household types the same number: pending, as any number, so nothing is revealed to it; the
    # utility, asked to prove it, is told the meter is held.
    other_head = resident_headers(client, app)
    other = client.post("/api/v1/households", headers=other_head,
                        json={"name": "岱宗坊一家", "address": "泰山区岱宗大街 1 号", "district": "370902"}).json
    theirs = client.post(f"/api/v1/households/{other['id']}/bindings", headers=other_head, json={"identifier": METER})
    assert theirs.status_code == 201 and theirs.json["status"] == "pending"
    code = client.post(f"/api/v1/households/{other['id']}/binding-codes", headers=other_head, json={}).json["code"]
    assert_error(partner_post(client, world["utility"], "/binding-confirmations",
                              {"code": code, "kind": "electricity_meter", "identifier": METER}),
                 409, "identifier_taken")
    # Unbound (say the family moved out), it can be bound by the other household, and a new one by this one.
    assert client.delete(url(world, f"/bindings/{first['id']}"), headers=world["head"], json={}).status_code == 204
    assert client.get(url(world, "/bindings"), headers=world["head"]).json == []
    assert_error(client.delete(url(world, f"/bindings/{first['id']}"), headers=world["head"], json={}), 404)
    code = client.post(f"/api/v1/households/{other['id']}/binding-codes", headers=other_head, json={}).json["code"]
    assert partner_post(client, world["utility"], "/binding-confirmations",
                        {"code": code, "kind": "electricity_meter", "identifier": METER}).json["status"] == "active"
    assert bind(client, world, OTHER_METER)["last4"] == "8877"


def test_a_meter_is_never_bound_to_a_members_own_account(client, world):
    refused = assert_error(client.post("/api/v1/me/bindings", headers=world["head"],
                                       json={"kind": "electricity_meter", "identifier": METER}), 422,
                           "binding_kind_refused")
    assert "household" in refused["message"]
    # Nor through the utility with a member's own binding code.
    code = client.post("/api/v1/me/binding-codes", headers=world["member"], json={}).json["code"]
    assert_error(partner_post(client, world["utility"], "/bindings",
                              {"code": code, "kind": "electricity_meter", "identifier": METER}), 422,
                 "binding_kind_refused")
    # The refusal rolled the code back with the rest: it still works, for a card a person may hold.
    assert partner_post(client, world["utility"], "/bindings",
                        {"code": code, "kind": "transit_card", "identifier": "8801 2345 6789"}).status_code == 201
    # A household binds only its meter, whatever the utility sends.
    assert_error(partner_post(client, world["utility"], "/bindings", {
        "code": household_code(client, world), "kind": "transit_card", "identifier": "8801 0000 0001"}),
        422, "binding_kind_refused")


def test_unknown_fields_and_bad_numbers_are_refused_and_nothing_is_written(app, client, world):
    assert_error(client.post(url(world, "/bindings"), headers=world["head"],
                             json={"identifier": METER, "kind": "transit_card"}), 422, "validation_error")
    assert_error(enter(client, world, "12"), 422, "invalid_input")
    assert_error(client.post(url(world, "/bindings"), headers=world["head"], json={}), 422, "validation_error")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Binding)).scalar_one() == 0


@pytest.mark.concurrency
def test_two_meters_added_at_once_leave_the_household_one(app, world):
    with app.app_context():
        account_id = db.session.get(Household, world["household"]).account_id
    for repetition in range(20):
        meters = [f"77{repetition:02d}0001", f"77{repetition:02d}0002"]

        def add(i, meters=meters):
            return consent.add_binding(account_id, BindingKind.ELECTRICITY_METER, meters[i]).id

        outcomes = run_concurrently(app, add, 2)
        assert not outcomes.errors, (repetition, outcomes.errors[:2])
        assert len(outcomes.ok) == 1 and outcomes.refused_codes == {"household_has_meter": 1}, repetition
        with app.app_context():
            live = db.session.execute(sa.select(Binding).where(Binding.account_id == account_id,
                                                               Binding.status != BindingStatus.REVOKED)).scalars().all()
            assert [b.id for b in live] == outcomes.ok, repetition
            consent.revoke_binding(account_id, live[0].id)
            commit()


# --- Consent ----------------------------------------------------------------------------------------------


def test_the_head_grants_and_withdraws_the_utilitys_consent_for_the_household(client, world):
    partners = client.get(url(world, "/partners"), headers=world["member"]).json
    assert [(p["name"], p["kind"], p["scenarios"]) for p in partners] == \
        [("国网泰安供电公司", "utility", ["electricity_saving"])]
    # A person's own list does not offer it: the saving is the household's.
    mine = {p["name"]: p["scenarios"] for p in client.get("/api/v1/partners", headers=world["head"]).json}
    assert mine["国网泰安供电公司"] == []
    assert_error(client.post("/api/v1/me/authorisations", headers=world["head"],
                             json={"partner_id": world["utility"][0], "scenario": "electricity_saving"}), 422,
                 "scenario_not_for_account")
    assert_error(authorise(client, world, who="member"), 403)
    granted = authorise(client, world)
    assert granted.status_code == 201 and granted.json["scenario"] == "electricity_saving"
    assert authorise(client, world).json["id"] == granted.json["id"]  # granted twice: one consent
    listed = client.get(url(world, "/authorisations"), headers=world["member"]).json
    assert [(a["partner_name"], a["scenario"]) for a in listed] == [("国网泰安供电公司", "electricity_saving")]
    assert client.get("/api/v1/me/authorisations", headers=world["head"]).json == []
    assert_error(client.post(url(world, "/authorisations"), headers=world["head"],
                             json={"partner_id": world["utility"][0], "scenario": "bus_ride"}), 422)
    assert_error(client.delete(url(world, f"/authorisations/{granted.json['id']}"), headers=world["member"],
                               json={}), 403)
    assert client.delete(url(world, f"/authorisations/{granted.json['id']}"), headers=world["head"],
                         json={}).status_code == 204
    assert client.get(url(world, "/authorisations"), headers=world["head"]).json == []


# --- The feed ---------------------------------------------------------------------------------------------


def test_a_monthly_reading_credits_the_household_once_and_no_member(app, client, world):
    bind(client, world)
    assert authorise(client, world).status_code == 201
    before = balances(app, client, world)
    assert before == {"household": (0, 0), "head": (0, 0), "member": (0, 0)}

    # 300 kWh a year ago, 260 now: 40 kWh × 641 g = 25,640 g certified in full; 5,128 points capped at 5,000.
    (first,) = send(client, world, reading("2026-06"))
    assert (first["status"], first["points"]) == ("credited", 5000), first
    # The same event again, alone or twice in a batch: nothing more.
    assert [r["status"] for r in send(client, world, reading("2026-06"), reading("2026-06"))] == \
        ["duplicate", "duplicate"]
    # A second reading for the same month (another event id and fact): the monthly count cap leaves it nothing.
    (second,) = send(client, world, reading("2026-06-again", actual=200))
    assert second["points"] == 0, second
    after = balances(app, client, world)
    assert after == {"household": (5000, 40 * GRID), "head": (0, 0), "member": (0, 0)}

    with app.app_context():
        household = db.session.get(Household, world["household"])
        actions = db.session.execute(sa.select(Action).where(Action.scenario == "electricity_saving")).scalars().all()
        assert {a.account_id for a in actions} == {household.account_id}
        assert all(a.channel == "partner:utility" for a in actions)
        # The household's total is what the feed credited, to the gram and the point.
        assert sum(a.grams for a in actions) == household.account.reduction_grams == 40 * GRID
        assert sum(a.points for a in actions) == household.account.points_pending == first["points"] + second["points"]
        receipt = next(a for a in actions if a.id == first["action_id"]).receipt
        assert receipt["methodology_version"] == "TA-SAVE-2026.3", receipt
        members = db.session.execute(sa.select(CarbonAccount).where(CarbonAccount.kind == "resident")).scalars()
        assert all((m.points_pending, m.points_available, m.reduction_grams) == (0, 0, 0) for m in members)
    shown = client.get(url(world), headers=world["member"]).json
    assert shown["total_grams"] == 40 * GRID and all(m["lifetime_grams"] == 0 for m in shown["members"])


def test_the_baseline_is_the_utilitys_same_month_last_year_never_one_the_platform_fills_in(app, client, world):
    bind(client, world)
    authorise(client, world)
    # No baseline sent: refused, never taken from the platform's earlier events (it keeps none as readings).
    (missing,) = send(client, world, reading("no-baseline", baseline=None))
    assert missing["status"] == "rejected" and "baseline_kwh is required" in missing["reason"], missing
    # More used than a year earlier: no saving, nothing credited (and no negative credit).
    (more,) = send(client, world, reading("more", baseline=250, actual=280))
    assert (more["status"], more["points"]) == ("credited", 0), more
    assert balances(app, client, world)["household"] == (0, 0)
    with app.app_context():
        rulebook = rulebooks.rules_in_force(utcnow()).rulebook
        saving = rulebook.scenarios["electricity_saving"]
        assert [(i.name, i.required, i.default) for i in saving.inputs] == \
            [("baseline_kwh", True, None), ("actual_kwh", True, None)]


def test_readings_without_a_binding_consent_or_household_are_refused_per_event(app, client, world):
    # No binding for the meter: kept unmatched, as every feed does.
    (unbound,) = send(client, world, reading("unbound"))
    assert (unbound["status"], unbound["reason"]) == ("unmatched", "no account is bound to this identifier")
    # Bound, without the household's consent: unmatched until the head grants it, then credited once.
    bind(client, world)
    (waiting,) = send(client, world, reading("waiting"))
    assert (waiting["status"], waiting["reason"]) == \
        ("unmatched", "the account has not authorised this partner for this scene")
    assert balances(app, client, world)["household"] == (0, 0)
    authorise(client, world)
    # The first reading waited for a binding, the second for consent: both credited now, one month's cap.
    after = balances(app, client, world)
    assert after["household"] == (5000, 40 * GRID) and after["head"] == after["member"] == (0, 0)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Action)
                                  .where(Action.points > 0)).scalar_one() == 1


def test_a_meter_bound_to_a_persons_account_before_the_rule_is_refused_by_the_scenario(app, client, world):
    """A meter bound to a resident's own account (possible before meters became households'): the utility's
    reading is matched there and refused, by the rules' own reason, rather than credited to a person."""
    with app.app_context():
        person = f.resident()
        account_id = person.account_id
        db.session.add(Binding(account_id=account_id, kind=BindingKind.ELECTRICITY_METER, last4="8877",
                               identifier_hash=consent.identifier_hash(BindingKind.ELECTRICITY_METER, OTHER_METER),
                               status=BindingStatus.ACTIVE, proposed_by_partner_id=world["utility"][0]))
        db.session.add(Authorisation(account_id=account_id, partner_id=world["utility"][0],
                                             scenario="electricity_saving"))
        commit()
    (refused,) = send(client, world, reading("personal", meter=OTHER_METER))
    assert refused["status"] == "rejected" and "account" in refused["reason"], refused
    with app.app_context():
        assert db.session.get(CarbonAccount, account_id).reduction_grams == 0
