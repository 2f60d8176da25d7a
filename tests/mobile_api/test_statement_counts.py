"""Statement counts of the operations whose speed matters: a regression in the number of SQL statements fails here.

Each test runs the operation once to warm up (a worker's first request loads the rulebook and fills caches), then
counts the statements the second one sends through the engine (SQLAlchemy's ``before_cursor_execute``: every
statement the app executes, including SQLite's ``BEGIN``; ``COMMIT`` goes through the driver and is not counted; a
batched ``executemany``, such as the balance updates of a partner batch, counts once).
The budgets below are the counts measured when they were written; lower them when a change removes statements, and
raise one only with a reason in the commit message. Speed is protected by these tests, not by obscure code.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, BindingKind, Partner
from carbon_platform.services import accounts, auth, consent
from tests import factories as f
from tests.mobile_api.helpers import signed

BEIJING = timezone(timedelta(hours=8))
EVENTS = "/api/v1/partner/events"

# Budgets: statements per operation and per database, one line each, set to the counts measured after #20 (before it,
# on bf2db10: self-report 13/12, partner batch 18/17, redemption 19/17, GET /me 5/4). SQLite sends one more than
# PostgreSQL per transaction: its ``BEGIN``, which psycopg issues inside the driver.
#: POST /api/v1/actions (walking, no photo): the token with its holder; the rulebook in force; the campaign controls;
#: the account and district; the idempotency key; usage against the caps; the action (RETURNING it); the journal,
#: its lot and entries; the guarded balance move; the action pointed at its journal; the lot's release time for the
#: answer (#20: the rulebook and the controls are two plain queries, not one join of unrelated tables: +1).
SELF_REPORT = {"sqlite": 14, "postgresql": 13}
#: POST /api/v1/partner/events with 100 bus rides of 100 residents: the partner and its secrets; the events claimed
#: in one insert; bindings, consents, accounts, the rulebook and earlier corrections looked up for the whole batch;
#: usage; actions, journals, lots, entries and balances written in batches, the actions pointed at their journals;
#: the events' outcomes.
PARTNER_BATCH_OF_100 = {"sqlite": 19, "postgresql": 18}  # #20: the campaign controls are their own query
#: What a batch of 100 may cost beyond a batch of 10 of the same kind: the count must not grow with the batch.
BATCH_GROWTH = 2
#: POST /api/v1/rewards/<id>/redemptions: the token; the account; an earlier voucher under the key; the reward and
#: its districts; the guarded stock move; the journal; the account again; open lots soonest expiry first, then the
#: entries, the guarded balance move, the spent lot and its allocation; the voucher and its short code; after the
#: commit, a new transaction reads the voucher back for the answer.
REDEMPTION = {"sqlite": 19, "postgresql": 17}
#: GET /api/v1/me: the token; the household membership; the next release; the points expiring soon.
ME = {"sqlite": 5, "postgresql": 4}


@contextmanager
def counted(app):
    """The SQL statements sent through ``app``'s engine inside the block, in order."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def within(statements: list[str], budget: dict[str, int], backend: str) -> None:
    listing = "\n".join(f"{n:3}. {s[:200]}" for n, s in enumerate(statements, 1))
    assert len(statements) <= budget[backend], (
        f"{len(statements)} statements, budget {budget[backend]} on {backend}:\n{listing}")


def test_a_self_report(app, client, headers, backend):
    def report(key: str, hours_ago: int):
        when = (datetime.now(BEIJING) - timedelta(hours=hours_ago)).replace(microsecond=0).isoformat()
        response = client.post("/api/v1/actions", headers={**headers, "Idempotency-Key": key},
                               json={"scenario": "walking", "occurred_at": when, "inputs": {"steps": 8000}})
        assert response.status_code == 201 and response.json["points"] > 0, response.json

    report("warm-up", hours_ago=25)  # walking pays once a Beijing day: the counted report is on another day
    with counted(app) as statements:
        report("counted", hours_ago=1)
    within(statements, SELF_REPORT, backend)


@pytest.fixture
def riders(app, partner):
    """100 residents whose transit cards are proven and who consent to the partner's bus rides."""
    with app.app_context():
        seeding.load_reference()
        record = db.session.get(Partner, partner["id"])
        cards = []
        for n in range(100):
            resident = accounts.register_resident(f.phone(), district_code="370902")
            f.proven_binding(resident.account_id, record, BindingKind.TRANSIT_CARD, f"CARD{n:08d}")
            consent.grant(resident.account_id, record, "bus_ride", frozenset({"partner:transit"}))
            cards.append(f"CARD{n:08d}")
        commit()
    return cards


def send_batch(client, partner, cards: list[str], label: str, minutes_ago: int) -> None:
    when = (datetime.now(BEIJING) - timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()
    events = [{"event_id": f"{label}-{n}", "scenario": "bus_ride", "binding": {"kind": "transit_card", "id": card},
               "occurred_at": when, "inputs": {"distance_km": 3 + n % 7}} for n, card in enumerate(cards)]
    raw = json.dumps({"events": events}).encode()
    response = client.post(EVENTS, data=raw, headers=signed(partner["key_id"], partner["secret"], raw, EVENTS))
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    # Every ride paid: a capped one (credited with no points) skips the ledger, which would flatter the count.
    assert all(r["status"] == "credited" and r["points"] > 0 for r in results), results


def test_a_partner_batch_costs_the_same_statements_for_10_events_as_for_100(app, client, partner, riders, backend):
    send_batch(client, partner, riders[:1], "warm-up", minutes_ago=200)
    with counted(app) as ten:
        send_batch(client, partner, riders[:10], "ten", minutes_ago=150)
    with counted(app) as hundred:
        send_batch(client, partner, riders, "hundred", minutes_ago=100)
    within(hundred, PARTNER_BATCH_OF_100, backend)
    assert len(hundred) <= len(ten) + BATCH_GROWTH, (
        f"a batch of 100 sends {len(hundred)} statements, a batch of 10 sends {len(ten)}: the count grows with the "
        "batch:\n" + "\n".join(hundred))


def test_a_redemption(app, client, backend):
    with app.app_context():
        seeding.load_reference()
        reward_id = f.reward(f.merchant(), stock=5, points_price=300).id
        resident = f.resident(district_code="370902")
        f.fund(resident.account_id, 1000)
        headers = {"Authorization": f"Bearer {auth.issue_tokens(Audience.RESIDENT, resident.id).access_token}"}
        commit()

    def redeem(key: str):
        response = client.post(f"/api/v1/rewards/{reward_id}/redemptions",
                               headers={**headers, "Idempotency-Key": key}, json={})
        assert response.status_code == 201, response.json

    redeem("warm-up")
    with counted(app) as statements:
        redeem("counted")
    within(statements, REDEMPTION, backend)


def test_get_me(app, client, headers, backend):
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with counted(app) as statements:
        response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.json
    within(statements, ME, backend)
