"""Merchant low-carbon scenes: the rotating code a merchant shows for a scene, and a resident's check-in with it.

A merchant offers some of the rulebook's ``merchant_checkin`` scenarios (clean plate, own bag…) at its counter.
Its staff's page shows a QR code for a scene; a resident scans it and the scene is awarded through
``earning.award_action`` on the channel ``merchant_checkin``, within the rulebook's caps.

The code is ``TACK1.<merchant id>.<scenario>.<slot>.<mac>``:

- ``slot`` is the minute it was made (Unix seconds // ``SLOT_SECONDS``), so the code changes every minute;
- ``mac`` is HMAC-SHA256 over ``TACK1.<merchant>.<scenario>.<slot>``, its first 128 bits in URL-safe base64,
  with a key derived from the app's ``SECRET_KEY`` for this purpose only (a voucher's MAC or a session's can
  never stand for a check-in code). It is compared in constant time.

Why signed and rotating, not a fixed code per shop: a fixed code photographed once would credit the scene from
home every day. A code is accepted from its slot's start until ``VALID_SLOTS`` slots later (about four to five
minutes: the time to scan and post on a slow phone), never before its slot and never after, so a photo of
yesterday's code, or of this morning's, is refused (``checkin_code_expired``). Nothing is stored per code:
the signature says the platform made it, the slot when. Within its minutes a code can be passed around, so
the rest is the rulebook's caps and one check-in per resident, merchant, scene and Beijing day (the unique row
of ``MerchantCheckin``, claimed before awarding, so two racing scans cannot both pass).

A code is refused at the check-in, too, when its merchant is no longer active or no longer offers the scene.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from carbon_platform import clock
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import Conflict, DomainError, IdempotencyConflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Action, Merchant, MerchantCheckin, MerchantStaff, Resident
from carbon_platform.services import audit, earning, holders, rulebooks
from carbon_platform.services.identity import mask_phone
from points_rules import Rulebook
from points_rules.rulebook import Scenario

PREFIX = "TACK1"
CHANNEL = "merchant_checkin"
SLOT_SECONDS = 60
#: A code of slot ``s`` is accepted while the current slot is ``s`` … ``s + VALID_SLOTS - 1``.
VALID_SLOTS = 5
_CODE = re.compile(r"^TACK1\.([1-9][0-9]{0,9})\.([a-z][a-z0-9_]{0,63})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})$")
#: At most this many check-ins are listed for a day (the counts include them all).
MAX_LISTED = 200


class CheckinRefused(DomainError):
    """A scanned code that cannot be checked in; ``code`` says why."""

    code, status, message = "checkin_code_invalid", 422, "This is not a valid check-in code."


class AlreadyCheckedIn(Conflict):
    code, message = "already_checked_in", "You have already checked in for this scene at this merchant today."


# -- which merchants offer which scenes --------------------------------------------------------------


def checkin_scenarios(rulebook: Rulebook) -> dict[str, Scenario]:
    """The scenarios of ``rulebook`` a merchant can offer: those with the channel ``merchant_checkin``."""
    return {sid: s for sid, s in sorted(rulebook.scenarios.items()) if CHANNEL in s.channels}


def set_scenarios(merchant: Merchant, scenarios: list[str], *, actor: audit.Actor,
                  now: datetime | None = None) -> Merchant:
    """The scenes ``merchant`` offers from now on: each a ``merchant_checkin`` scenario of the rulebook in force."""
    offerable = checkin_scenarios(rulebooks.rules_in_force(clock.utc_or_now(now)).rulebook)
    unknown = sorted(set(scenarios) - set(offerable))
    if unknown:
        raise InvalidInput(f"not a check-in scene of the rulebook in force: {', '.join(unknown)}",
                           code="unknown_checkin_scenario", field="checkin_scenarios", scenarios=unknown)
    chosen = sorted(set(scenarios))
    if chosen != sorted(merchant.checkin_scenarios or []):
        before = sorted(merchant.checkin_scenarios or [])
        merchant.checkin_scenarios = chosen
        db.session.flush()
        audit.record(actor, "merchant.checkin_scenarios", merchant, before=before, after=chosen)
    return merchant


# -- codes --------------------------------------------------------------------------------------------


def _key() -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"merchant-checkin-code/v1", hashlib.sha256).digest()


def _mac(merchant_id: int, scenario: str, slot: int) -> str:
    digest = hmac.new(_key(), f"{PREFIX}.{merchant_id}.{scenario}.{slot}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def slot_of(moment: datetime) -> int:
    return int(moment.timestamp()) // SLOT_SECONDS


def slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * SLOT_SECONDS, UTC)


@dataclass(frozen=True)
class CheckinCode:
    """The code to show now: refresh it at ``refresh_at`` (the next slot); no scan of it counts from ``expires_at``."""

    code: str
    merchant_id: int
    scenario: str
    issued_at: datetime
    refresh_at: datetime
    expires_at: datetime


def code_for(merchant_id: int, scenario: str, slot: int) -> str:
    return f"{PREFIX}.{merchant_id}.{scenario}.{slot}.{_mac(merchant_id, scenario, slot)}"


def current_code(staff: MerchantStaff, scenario: str, *, now: datetime | None = None) -> CheckinCode:
    """The code of ``scenario`` at the staff's merchant for the present slot (a GET: nothing is written)."""
    merchant = staff.merchant
    _offered(merchant, scenario, status=404)
    slot = slot_of(clock.utc_or_now(now))
    return CheckinCode(code_for(merchant.id, scenario, slot), merchant.id, scenario, slot_start(slot),
                       slot_start(slot + 1), slot_start(slot + VALID_SLOTS))


@dataclass(frozen=True)
class Scanned:
    merchant_id: int
    scenario: str
    slot: int


def read_code(code: str, *, now: datetime, fresh: bool = True) -> Scanned:
    """The merchant, scene and slot a code stands for, if the platform signed it and (``fresh``) it is still valid."""
    match = _CODE.match(code.strip()) if isinstance(code, str) else None
    if match is None:
        raise CheckinRefused("this is not a check-in code")
    merchant_id, scenario, slot = int(match[1]), match[2], int(match[3])
    if not hmac.compare_digest(match[4], _mac(merchant_id, scenario, slot)):
        raise CheckinRefused("this check-in code is not genuine")
    scanned = Scanned(merchant_id, scenario, slot)
    if fresh:
        _still_valid(scanned, now)
    return scanned


def _still_valid(scanned: Scanned, now: datetime) -> None:
    current = slot_of(now)
    if scanned.slot > current or current - scanned.slot >= VALID_SLOTS:
        raise CheckinRefused("this check-in code has expired: scan the code the merchant shows now",
                             code="checkin_code_expired")


def _offered(merchant: Merchant | None, scenario: str, *, status: int = 422) -> Merchant:
    if merchant is None or not merchant.active:
        raise CheckinRefused("this merchant does not take check-ins now", code="merchant_inactive")
    if scenario not in (merchant.checkin_scenarios or []):
        error = NotFound if status == 404 else CheckinRefused
        raise error("this merchant does not offer this scene", code="scene_not_offered", scenario=scenario)
    return merchant


# -- checking in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedIn:
    checkin: MerchantCheckin
    merchant: Merchant
    action: Action
    replayed: bool = False


def check_in(resident: Resident, code: str, *, client_key: str, now: datetime | None = None) -> CheckedIn:
    """Check ``resident`` in with a scanned ``code``: once per merchant, scene and Beijing day, awarded by the rules.

    ``client_key`` (the request's Idempotency-Key) makes a retry answer the same check-in; the same key with
    another code is a conflict. The check-in's time is its code's slot, so a retry is the same claim.
    """
    now = clock.utc_or_now(now)
    scanned = read_code(code, now=now, fresh=False)
    key = f"checkin:{resident.id}:{client_key}"
    replay = _replay(resident, scanned, key, now)
    if replay is not None:
        return replay  # a retry after a lost answer, even once the code has expired, is the same check-in
    _still_valid(scanned, now)
    merchant = _offered(db.session.get(Merchant, scanned.merchant_id), scanned.scenario)
    rules = rulebooks.awarding_rules(now)
    scenario = rules.in_force.rulebook.scenarios.get(scanned.scenario)
    if scenario is None or CHANNEL not in scenario.channels:
        raise CheckinRefused("the rulebook in force has no such check-in scene", code="scene_not_offered",
                             scenario=scanned.scenario)
    occurred_at = slot_start(scanned.slot)
    day = clock.city_day(occurred_at)
    holder = holders.lock(resident.account_id)  # the account first, as award_action would (one lock order)
    claimed = db.session.execute(
        insert_ignoring_conflicts(MerchantCheckin, ("merchant_id", "account_id", "scenario", "day"), ("id",)),
        [{"merchant_id": merchant.id, "account_id": resident.account_id, "resident_id": resident.id,
          "scenario": scanned.scenario, "day": day, "checked_in_at": now, "action_id": None}]).scalar()
    if claimed is None:
        # A racing request with the same key may have won the row: then this is its replay.
        replay = _replay(resident, scanned, key, now)
        if replay is not None:
            return replay
        raise AlreadyCheckedIn(scenario=scanned.scenario, merchant_id=merchant.id, day=day.isoformat())
    found = holder.holder
    if found is None:
        raise NotFound("account not found")
    award = earning.award_action(
        resident.account_id, account_type=found.account_type, scenario=scanned.scenario, inputs={},
        occurred_at=occurred_at, idempotency_key=key, channel=CHANNEL, district=found.district,
        household_account_id=found.household_account_id, now=now,
        context=earning.Context(*rules, locked=holder.frozen))
    checkin = db.session.get(MerchantCheckin, claimed)
    checkin.action_id = award.action.id
    db.session.flush()
    return CheckedIn(checkin, merchant, award.action)


def _replay(resident: Resident, scanned: Scanned, key: str, now: datetime) -> CheckedIn | None:
    """The check-in a request with this key made, if any (the same code: else the key is reused)."""
    row = db.session.execute(sa.select(MerchantCheckin, Action).join(Action, Action.id == MerchantCheckin.action_id)
                             .where(Action.idempotency_key == key)).first()
    if row is None:
        return None
    checkin, action = row
    if (checkin.merchant_id, checkin.scenario, action.occurred_at) != (
            scanned.merchant_id, scanned.scenario, slot_start(scanned.slot)):
        raise IdempotencyConflict(idempotency_key=key)
    return CheckedIn(checkin, db.session.get(Merchant, checkin.merchant_id), action, replayed=True)


# -- what a merchant sees ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedCheckin:
    id: int
    scenario: str
    checked_in_at: datetime
    resident: str  # masked phone, never the full number
    status: str
    points: int


@dataclass(frozen=True)
class SceneCount:
    scenario: str
    count: int
    credited: int


@dataclass(frozen=True)
class MerchantCheckinDay:
    day: date
    count: int
    by_scenario: list[SceneCount]
    checkins: list[ListedCheckin]


def merchant_day(merchant_id: int, day: date | None = None, *, now: datetime | None = None) -> MerchantCheckinDay:
    """The check-ins at a merchant on a Beijing day (today by default): counts per scene, newest first."""
    day = day or clock.city_day(clock.utc_or_now(now))
    rows = db.session.execute(
        sa.select(MerchantCheckin, Action.status, Action.points, Resident.phone)
        .join(Action, Action.id == MerchantCheckin.action_id)
        .join(Resident, Resident.id == MerchantCheckin.resident_id)
        .where(MerchantCheckin.merchant_id == merchant_id, MerchantCheckin.day == day)
        .order_by(MerchantCheckin.checked_in_at.desc(), MerchantCheckin.id.desc())).all()
    counts: dict[str, list[int]] = {}
    for checkin, status, _points, _phone in rows:
        tally = counts.setdefault(checkin.scenario, [0, 0])
        tally[0] += 1
        tally[1] += status.value == "credited"
    listed = [ListedCheckin(c.id, c.scenario, c.checked_in_at, _masked(phone), status.value, points)
              for c, status, points, phone in rows[:MAX_LISTED]]
    return MerchantCheckinDay(day, len(rows), [SceneCount(s, n, k) for s, (n, k) in sorted(counts.items())], listed)


def _masked(phone: str | None) -> str:
    try:
        return mask_phone(phone) if phone else "—"
    except (ValueError, TypeError):
        return "—"


def within_listing(day: date, *, now: datetime) -> date:
    """A day a merchant may list: not in the future, at most a year back."""
    today = clock.city_day(now)
    if day > today or day < today - timedelta(days=366):
        raise InvalidInput("day must be today or earlier, at most a year back", field="day")
    return day
