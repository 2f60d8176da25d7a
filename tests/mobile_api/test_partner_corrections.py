"""Partner corrections and cancellations: the latest version of a credit wins, whatever the order."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import BindingKind, CarbonAccount, Partner, PartnerKind
from carbon_platform.services import consent, feeds, organisations
from mobile_api.schemas.consent import PartnerEventSchema
from tests import factories as f

BEIJING = timezone(timedelta(hours=8))
_cards = itertools.count(100000)


@pytest.fixture
def partner_id(app):
    with app.app_context():
        seeding.load_reference()
        partner, _secret = organisations.register_partner(name="公交", kind=PartnerKind.TRANSIT, actor=f.TEST_ACTOR)
        commit()
        return partner.id


def rider(partner_id) -> tuple[int, str]:
    """A fresh resident with a bound card who authorised the bus partner: (account id, card)."""
    card = f"8801{next(_cards)}"
    account_id = f.resident().account_id
    partner = db.session.get(Partner, partner_id)
    f.proven_binding(account_id, partner, BindingKind.TRANSIT_CARD, card)
    consent.grant(account_id, partner, "bus_ride", frozenset({"partner:transit"}))
    return account_id, card


def chain(card: str, root: str, versions: list[float | None]) -> list[dict]:
    """A credit of versions[0] km, then corrections (a float) or a cancellation (None), sequence 1, 2, …"""
    when = (datetime.now(BEIJING) - timedelta(hours=2)).replace(microsecond=0)
    events = []
    for sequence, km in enumerate(versions):
        event = {"event_id": root if sequence == 0 else f"{root}-v{sequence}", "scenario": "bus_ride",
                 "binding": {"kind": "transit_card", "id": card}, "occurred_at": when.isoformat(),
                 "inputs": {"distance_km": km if km is not None else 1}}
        if sequence:
            event.update(type="cancellation" if km is None else "correction", corrects=root, sequence=sequence)
        events.append(PartnerEventSchema().load(event))
    return events


def deliver(partner_id, events) -> list[str]:
    outcomes = feeds.ingest(db.session.get(Partner, partner_id), events)
    commit()
    return [o.status.value for o in outcomes]


def totals(account_id) -> tuple[int, int]:
    account = db.session.get(CarbonAccount, account_id, populate_existing=True)
    return account.points_pending + account.points_available, account.reduction_grams


def test_a_correction_replaces_the_credit(app, partner_id):
    with app.app_context():
        account_id, card = rider(partner_id)
        original, correction = chain(card, "t1", [6.2, 12.0])
        assert deliver(partner_id, [original]) == ["credited"]
        assert deliver(partner_id, [correction]) == ["credited"]
        # 12 km × 26.9 = 322.8 → 322 g → 64 points; the 6.2 km credit (33 points, 166 g) was reversed
        assert totals(account_id) == (64, 322)


def test_a_cancellation_reverses_the_credit_and_a_late_original_is_superseded(app, partner_id):
    with app.app_context():
        account_id, card = rider(partner_id)
        original, cancellation = chain(card, "t2", [6.2, None])
        assert deliver(partner_id, [cancellation]) == ["cancelled"]
        assert deliver(partner_id, [original]) == ["superseded"]
        assert totals(account_id) == (0, 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions=st.lists(st.one_of(st.none(), st.sampled_from([1.5, 6.2, 12.0, 30.0])), min_size=0, max_size=3),
       first=st.sampled_from([2.0, 6.2, 9.0]), data=st.data())
def test_out_of_order_delivery_ends_where_in_order_delivery_does(app, partner_id, versions, first, data):
    with app.app_context():
        in_order_account, card_a = rider(partner_id)
        shuffled_account, card_b = rider(partner_id)
        commit()
        root = f"trip-{next(_cards)}"
        deliver(partner_id, chain(card_a, f"{root}-a", [first, *versions]))
        events = chain(card_b, f"{root}-b", [first, *versions])
        order = data.draw(st.permutations(events))
        repeats = data.draw(st.lists(st.sampled_from(events), max_size=2))  # retries, anywhere
        for event in [*order, *repeats]:
            deliver(partner_id, [event])
        assert totals(shuffled_account) == totals(in_order_account)
