"""Partner feeds: a signed batch of events, each credited exactly once, with consent, or explained.

Each event is claimed by (partner, event id) with INSERT … ON CONFLICT DO NOTHING before anything
else, inside its own savepoint, so a retried or concurrent copy of an event is a duplicate and one
bad event never undoes the others. Events are credited only to an account bound to the identifier
the partner sent and only with that account's consent for the partner and scenario; otherwise they
are kept as unmatched (and purged later). The same fact under two event ids (its fact id) is
credited once, through award_action's natural key. Corrections and cancellations name the credit
they replace and carry a sequence; the highest sequence of a chain is applied, whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Action,
    ActionStatus,
    BindingKind,
    CarbonAccount,
    Enterprise,
    EventKind,
    EventStatus,
    Household,
    Partner,
    PartnerEvent,
    Resident,
)
from carbon_platform.services import consent, earning, ledger
from carbon_platform.services.households import membership_of
from carbon_platform.services.journal import fingerprint, jsonable

MAX_BATCH = 500


@dataclass(frozen=True)
class Outcome:
    event_id: str
    status: EventStatus
    reason: str | None = None
    action_id: int | None = None
    points: int = 0


def ingest(partner: Partner, events: list[dict[str, Any]], now: datetime | None = None) -> list[Outcome]:
    now = now or utcnow()
    outcomes = []
    for event in events:
        with db.session.begin_nested():
            outcomes.append(_one(partner, event, now))
    return outcomes


def _one(partner: Partner, event: dict[str, Any], now: datetime) -> Outcome:
    event_id, digest = event["event_id"], fingerprint(event)
    kind = EventKind(event.get("type", EventKind.CREDIT))
    root = event.get("corrects") or event_id
    sequence = event.get("sequence", 0) if kind is not EventKind.CREDIT else 0
    claimed = db.session.execute(
        insert_ignoring_conflicts(PartnerEvent, ["partner_id", "event_id"])
        .values(partner_id=partner.id, event_id=event_id, request_hash=digest, status=EventStatus.UNMATCHED,
                received_at=now, kind=kind, root_event_id=root, sequence=sequence)
        .returning(PartnerEvent.id)
    ).scalar()
    if claimed is None:
        first = db.session.execute(sa.select(PartnerEvent).where(
            PartnerEvent.partner_id == partner.id, PartnerEvent.event_id == event_id)).scalar_one()
        if first.request_hash != digest:
            return Outcome(event_id, EventStatus.REJECTED, "event id reused with different content")
        return Outcome(event_id, EventStatus.DUPLICATE, f"first received {first.received_at.isoformat()}",
                       first.action_id)
    record = db.session.get(PartnerEvent, claimed)
    outcome = _credit(partner, event, record, now)
    record.status, record.reason, record.action_id = outcome.status, outcome.reason, outcome.action_id
    record.payload = jsonable(event) if outcome.status is EventStatus.UNMATCHED else None
    return outcome


def _credit(partner: Partner, event: dict[str, Any], record: PartnerEvent, now: datetime) -> Outcome:
    event_id, scenario = event["event_id"], event["scenario"]
    if partner.allowed_scenarios and scenario not in partner.allowed_scenarios:
        return Outcome(event_id, EventStatus.REJECTED, f"{partner.name} may not report {scenario}")
    account_id = consent.account_bound_to(BindingKind(event["binding"]["kind"]), event["binding"]["id"])
    if account_id is None:
        return Outcome(event_id, EventStatus.UNMATCHED, "no account is bound to this identifier")
    if not consent.consented(account_id, partner.id, scenario):
        return Outcome(event_id, EventStatus.UNMATCHED, "the account has not authorised this partner for this scene")
    ledger.lock_account(account_id)  # one decision at a time for this account's chains
    newer = _settle_chain(partner, record, now)
    if newer is not None:
        return newer
    if record.kind is EventKind.CANCELLATION:
        return Outcome(event_id, EventStatus.CANCELLED, f"cancels {record.root_event_id}")
    account_type, district, household_account_id = holder_context(account_id)
    try:
        award = earning.award_action(
            account_id, account_type=account_type, scenario=scenario, inputs=event.get("inputs", {}),
            occurred_at=event["occurred_at"], idempotency_key=f"partner:{partner.id}:{event_id}",
            channel=f"partner:{partner.kind.value}", district=district, household_account_id=household_account_id,
            fact_id=event.get("fact_id"), now=now,
        )
    except DomainError as exc:
        return Outcome(event_id, EventStatus.REJECTED, exc.message)
    return _outcome(event_id, award)


def _settle_chain(partner: Partner, record: PartnerEvent, now: datetime) -> Outcome | None:
    """Make ``record`` the chain's truth unless a later version already is (then: superseded).

    The chain is the credit and every correction or cancellation naming it; the highest sequence
    wins whatever the arrival order, so out-of-order delivery ends where in-order delivery does.
    """
    chain = db.session.execute(
        sa.select(PartnerEvent).where(PartnerEvent.partner_id == partner.id,
                                      PartnerEvent.root_event_id == record.root_event_id,
                                      PartnerEvent.id != record.id,
                                      PartnerEvent.status.not_in([EventStatus.REJECTED, EventStatus.UNMATCHED]))
    ).scalars().all()
    if any(other.sequence >= record.sequence for other in chain):
        return Outcome(record.event_id, EventStatus.SUPERSEDED,
                       f"a later version of {record.root_event_id} was already received")
    for other in chain:  # the version in force until now: undo it
        action = db.session.get(Action, other.action_id) if other.action_id else None
        if action is not None and action.status in (ActionStatus.CREDITED, ActionStatus.REVIEW):
            earning.reverse_action(action, reason=f"replaced by {record.kind.value} {record.event_id}", now=now)
    return None


def _outcome(event_id: str, award: earning.Award) -> Outcome:
    action: Action = award.action
    if award.duplicate_of is not None:
        return Outcome(event_id, EventStatus.DUPLICATE, "this fact was already credited", action.id)
    if action.status is ActionStatus.CREDITED:
        return Outcome(event_id, EventStatus.CREDITED, None, action.id, action.points)
    if action.status is ActionStatus.REVIEW:
        status = EventStatus.QUARANTINED if action.reason == "implausible" else EventStatus.REVIEW
        return Outcome(event_id, status, action.detail, action.id, action.points)
    return Outcome(event_id, EventStatus.REJECTED, action.reason + (f": {action.detail}" if action.detail else ""),
                   action.id)


def holder_context(account_id: int) -> tuple[str, str | None, int | None]:
    """(account type, district code, household account id) of whoever holds the account."""
    account = db.session.get(CarbonAccount, account_id)
    if account.kind is AccountKind.RESIDENT:
        resident = db.session.execute(sa.select(Resident).where(Resident.account_id == account_id)).scalar_one()
        membership = membership_of(resident)
        return ("resident", resident.district.code if resident.district else None,
                membership.household.account_id if membership else None)
    if account.kind is AccountKind.HOUSEHOLD:
        household = db.session.execute(sa.select(Household).where(Household.account_id == account_id)).scalar_one()
        return "household", household.district.code, None
    if account.kind is AccountKind.ENTERPRISE:
        enterprise = db.session.execute(sa.select(Enterprise).where(Enterprise.account_id == account_id)).scalar_one()
        return "enterprise", enterprise.district.code, None
    return account.kind.value, None, None



def purge_unmatched(older_than: datetime) -> int:
    """Forget the data of events matched to nobody before ``older_than``.

    The row stays (event id and hash) so a resend is still recognised and never credited; only the
    payload, which names a card or meter, goes.
    """
    return db.session.execute(
        sa.update(PartnerEvent)
        .where(PartnerEvent.status == EventStatus.UNMATCHED, PartnerEvent.payload.is_not(None),
               PartnerEvent.received_at < older_than)
        .values(payload=None)
    ).rowcount
