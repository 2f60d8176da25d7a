"""The console's charts: trends and breakdowns of credited actions, top merchants, campaign budget burn.

Every series is a list of plain rows (what the chart draws is what its table shows and its CSV holds).
Days and months are Beijing ones, computed in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from carbon_platform.clock import CITY_TZ, as_utc, utcnow
from carbon_platform.db import city_date
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Action,
    ActionStatus,
    CampaignBudget,
    CarbonAccount,
    District,
    Merchant,
    Voucher,
    VoucherStatus,
)
from carbon_platform.services import rulebooks
from points_rules import Rulebook


@dataclass(frozen=True)
class Period:
    first: date  # Beijing dates, both included
    last: date
    district: str | None = None

    @property
    def start(self) -> datetime:
        return as_utc(datetime.combine(self.first, time(0), tzinfo=CITY_TZ))

    @property
    def end(self) -> datetime:
        return as_utc(datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=CITY_TZ))

    @classmethod
    def last_days(cls, days: int, district: str | None = None) -> Period:
        today = utcnow().astimezone(CITY_TZ).date()
        return cls(today - timedelta(days=days - 1), today, district)


def _credited(period: Period) -> list:
    conditions = [Action.status == ActionStatus.CREDITED, Action.occurred_at >= period.start,
                  Action.occurred_at < period.end]
    if period.district:
        conditions.append(Action.district == period.district)
    return conditions


def trend(period: Period, by: str = "day") -> list[dict]:
    """Grams and points credited per Beijing day (or month), oldest first; days without any are zero."""
    key = city_date(Action.occurred_at)
    if by == "month":
        key = sa.func.substr(key, 1, 7)
    rows = dict((k, (int(g or 0), int(p or 0), int(n))) for k, g, p, n in db.session.execute(
        sa.select(key, sa.func.sum(Action.grams), sa.func.sum(Action.points), sa.func.count())
        .where(*_credited(period)).group_by(key)
    ).all())
    labels, day = [], period.first
    while day <= period.last:
        label = day.isoformat()[:7] if by == "month" else day.isoformat()
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return [{"period": label, "grams": rows.get(label, (0, 0, 0))[0], "points": rows.get(label, (0, 0, 0))[1],
             "actions": rows.get(label, (0, 0, 0))[2]} for label in labels]


def _breakdown(column, period: Period) -> list[tuple]:
    return db.session.execute(
        sa.select(column, sa.func.sum(Action.grams), sa.func.sum(Action.points), sa.func.count())
        .where(*_credited(period)).group_by(column).order_by(sa.func.sum(Action.grams).desc())
    ).all()


def by_scenario(period: Period) -> list[dict]:
    names = _scenario_names()
    return [{"scenario": s, "name": names.get(s, s), "grams": int(g or 0), "points": int(p or 0), "actions": int(n)}
            for s, g, p, n in _breakdown(Action.scenario, period)]


def by_district(period: Period) -> list[dict]:
    names = dict(db.session.execute(sa.select(District.code, District.name_zh)).all())
    return [{"district": d or "—", "name": names.get(d, d or "—"), "grams": int(g or 0), "points": int(p or 0),
             "actions": int(n)} for d, g, p, n in _breakdown(Action.district, period)]


def _rulebook() -> Rulebook | None:
    """The rulebook in force, for names and programmes; a fresh install has none and still has a dashboard."""
    try:
        return rulebooks.rules_in_force(utcnow()).rulebook
    except rulebooks.NoRulebookInForce:
        return None


def by_programme(period: Period) -> list[dict]:
    """The plan's ten programmes (十大工程), through each scenario's programme in the rulebook in force."""
    rulebook = _rulebook()
    totals: dict[str, list[int]] = {}
    for row in by_scenario(period):
        scenario = rulebook.scenarios.get(row["scenario"]) if rulebook else None
        programme = scenario.programme if scenario else "—"
        entry = totals.setdefault(programme, [0, 0, 0])
        entry[0] += row["grams"]
        entry[1] += row["points"]
        entry[2] += row["actions"]
    names = {pid: p.get("zh", pid) for pid, p in rulebook.programmes.items()} if rulebook else {}
    return sorted(({"programme": pid, "name": names.get(pid, pid), "grams": g, "points": p, "actions": n}
                   for pid, (g, p, n) in totals.items()), key=lambda r: -r["grams"])


def top_merchants(period: Period, limit: int = 10) -> list[dict]:
    rows = db.session.execute(
        sa.select(Merchant.id, Merchant.name, sa.func.count(Voucher.id), sa.func.sum(Voucher.points),
                  sa.func.sum(Voucher.face_value_fen))
        .join(Voucher, Voucher.merchant_id == Merchant.id)
        .where(Voucher.status == VoucherStatus.CONSUMED, Voucher.consumed_at >= period.start,
               Voucher.consumed_at < period.end)
        .group_by(Merchant.id, Merchant.name).order_by(sa.func.count(Voucher.id).desc(), Merchant.id).limit(limit)
    ).all()
    return [{"merchant_id": m, "merchant": name, "vouchers": int(n), "points": int(p or 0),
             "face_value_yuan": round(int(v or 0) / 100, 2)} for m, name, n, p, v in rows]


def campaign_burn() -> list[dict]:
    """Every campaign of the rulebook in force: its budget, what it has paid, and the share burnt."""
    rulebook = _rulebook()
    if rulebook is None:
        return []
    spent = dict(db.session.execute(sa.select(CampaignBudget.campaign_id, CampaignBudget.spent)).all())
    return [{"campaign": c.id, "name": c.name_zh, "budget": c.budget_points, "spent": int(spent.get(c.id, 0)),
             "burnt_percent": round(100 * int(spent.get(c.id, 0)) / c.budget_points, 1) if c.budget_points else 0.0}
            for c in rulebook.campaigns]


def active_holders(period: Period) -> dict[str, int]:
    """Residents, households and enterprises with at least one credited action in the period."""
    rows = db.session.execute(
        sa.select(CarbonAccount.kind, sa.func.count(sa.distinct(Action.account_id)))
        .join(CarbonAccount, CarbonAccount.id == Action.account_id)
        .where(*_credited(period)).group_by(CarbonAccount.kind)
    ).all()
    counts = {kind: int(n) for kind, n in rows}
    households = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Action.household_account_id)))
        .where(*_credited(period), Action.household_account_id.is_not(None))
    ).scalar_one()
    return {"residents": counts.get(AccountKind.RESIDENT, 0), "households": int(households),
            "enterprises": counts.get(AccountKind.ENTERPRISE, 0)}


def _scenario_names() -> dict[str, str]:
    rulebook = _rulebook()
    return {sid: s.name_zh for sid, s in rulebook.scenarios.items()} if rulebook else {}


#: Every chart on the dashboard: its id, how to compute it, and its columns (table and CSV, in order).
CHARTS = {
    "trend_day": (lambda p: trend(p, "day"), ("period", "grams", "points", "actions")),
    "trend_month": (lambda p: trend(p, "month"), ("period", "grams", "points", "actions")),
    "scenario": (by_scenario, ("scenario", "name", "grams", "points", "actions")),
    "district": (by_district, ("district", "name", "grams", "points", "actions")),
    "programme": (by_programme, ("programme", "name", "grams", "points", "actions")),
    "merchants": (top_merchants, ("merchant_id", "merchant", "vouchers", "points", "face_value_yuan")),
    "campaigns": (lambda _p: campaign_burn(), ("campaign", "name", "budget", "spent", "burnt_percent")),
}
