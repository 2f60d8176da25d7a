"""The console's charts: trends and breakdowns of credited actions, top merchants, campaign budget burn.

Every series is a list of plain rows (what the chart draws is what its table shows and its CSV holds).
Days and months are Beijing ones, computed in the database. Each breakdown row also counts the distinct
accounts behind it (``accounts``), which the public page needs to suppress small cells.

``city_figures`` is the one function behind both the console's dashboard and the public page (``/``): the
ledger's totals, the holders active in the period and the charts asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    Enterprise,
    Household,
    Merchant,
    Resident,
    Voucher,
    VoucherStatus,
)
from carbon_platform.services import reports, rulebooks
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

    @classmethod
    def last_months(cls, months: int, district: str | None = None) -> Period:
        """This Beijing month so far and the ``months - 1`` whole months before it (12: "this year so far")."""
        today = utcnow().astimezone(CITY_TZ).date()
        first = today.replace(day=1)
        for _ in range(months - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        return cls(first, today, district)

    def whole_months(self) -> Period:
        """The period from the first day of its first month: a month chart shows no month in part."""
        return replace(self, first=self.first.replace(day=1))

    def year_before(self) -> Period:
        """The same days a year earlier (29 February becomes the 28th)."""

        def back(day: date) -> date:
            return day.replace(year=day.year - 1, day=min(day.day, 28) if (day.month, day.day) == (2, 29) else day.day)

        return replace(self, first=back(self.first), last=back(self.last))

    @classmethod
    def whole_history(cls) -> Period:
        """From the Beijing day of the first credited action (today when there is none) to today."""
        today = utcnow().astimezone(CITY_TZ).date()
        first = db.session.execute(
            sa.select(sa.func.min(Action.occurred_at)).where(Action.status == ActionStatus.CREDITED)
        ).scalar()
        return cls(min(as_utc(first).astimezone(CITY_TZ).date(), today) if first else today, today)


def _credited(period: Period) -> list:
    conditions = [Action.status == ActionStatus.CREDITED, Action.occurred_at >= period.start,
                  Action.occurred_at < period.end]
    if period.district:
        conditions.append(Action.district == period.district)
    return conditions


def _sums() -> tuple:
    """What every breakdown sums per row: grams, points, actions, and the distinct accounts behind them."""
    return (sa.func.sum(Action.grams), sa.func.sum(Action.points), sa.func.count(),
            sa.func.count(sa.distinct(Action.account_id)))


def trend(period: Period, by: str = "day") -> list[dict]:
    """Grams and points credited per Beijing day (or month), oldest first; days without any are zero."""
    key = city_date(Action.occurred_at)
    if by == "month":
        key = sa.func.substr(key, 1, 7)
    rows = {k: (int(g or 0), int(p or 0), int(n), int(a)) for k, g, p, n, a in db.session.execute(
        sa.select(key, *_sums()).where(*_credited(period)).group_by(key)
    ).all()}
    labels, day = [], period.first
    while day <= period.last:
        label = day.isoformat()[:7] if by == "month" else day.isoformat()
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return [dict(zip(("period", "grams", "points", "actions", "accounts"), (label, *rows.get(label, (0, 0, 0, 0))),
                     strict=True)) for label in labels]


def headline(period: Period) -> dict[str, int]:
    """The period's figures for the dashboard's first cards, for the district when one is chosen: what was
    credited (grams, points, actions, accounts) and the vouchers used at the district's merchants."""
    grams, points, actions, accounts = db.session.execute(sa.select(*_sums()).where(*_credited(period))).one()
    used = (sa.select(sa.func.count(Voucher.id), sa.func.sum(Voucher.points))
            .where(Voucher.status == VoucherStatus.CONSUMED, Voucher.consumed_at >= period.start,
                   Voucher.consumed_at < period.end))
    if period.district:
        used = used.join(Merchant, Merchant.id == Voucher.merchant_id).join(
            District, District.id == Merchant.district_id).where(District.code == period.district)
    vouchers, redeemed = db.session.execute(used).one()
    return {"grams": int(grams or 0), "points": int(points or 0), "actions": int(actions),
            "accounts": int(accounts), "vouchers": int(vouchers), "points_redeemed": int(redeemed or 0)}


def registered(district: str | None = None) -> dict[str, int]:
    """Residents, households, enterprises and merchants registered (in the district, when one is chosen)."""

    def count(model) -> int:
        query = sa.select(sa.func.count()).select_from(model)
        if district:
            query = query.join(District, District.id == model.district_id).where(District.code == district)
        return db.session.execute(query).scalar_one()

    return {"residents": count(Resident), "households": count(Household), "enterprises": count(Enterprise),
            "merchants": count(Merchant)}


def _breakdown(column, period: Period) -> list[tuple]:
    """(key, grams, points, actions, accounts) per value of ``column``, most grams first."""
    return [(k, int(g or 0), int(p or 0), int(n), int(a)) for k, g, p, n, a in db.session.execute(
        sa.select(column, *_sums()).where(*_credited(period)).group_by(column)
        .order_by(sa.func.sum(Action.grams).desc(), column)
    ).all()]


def _row(key: str, value, name: str, name_en: str, figures: tuple, **extra) -> dict:
    grams, points, actions, accounts = figures
    return {key: value, "name": name, "name_en": name_en, "grams": grams, "points": points, "actions": actions,
            "accounts": accounts, **extra}


def by_scenario(period: Period) -> list[dict]:
    rulebook = _rulebook()
    scenarios = rulebook.scenarios if rulebook else {}
    rows = []
    for s, *figures in _breakdown(Action.scenario, period):
        known = scenarios.get(s)
        rows.append(_row("scenario", s, known.name_zh if known else s, known.name_en if known else s, tuple(figures),
                         kind=known.kind if known else "", programme=known.programme if known else "—"))
    return rows


def by_district(period: Period) -> list[dict]:
    names = {code: (zh, en) for code, zh, en in db.session.execute(
        sa.select(District.code, District.name_zh, District.name_en)).all()}
    return [_row("district", d or "—", *names.get(d, (d or "—", d or "—")), tuple(figures))
            for d, *figures in _breakdown(Action.district, period)]


def _rulebook() -> Rulebook | None:
    """The rulebook in force, for names and programmes; a fresh install has none and still has a dashboard."""
    try:
        return rulebooks.rules_in_force(utcnow()).rulebook
    except rulebooks.NoRulebookInForce:
        return None


def by_programme(period: Period) -> list[dict]:
    """The plan's ten programmes (十大工程), through each scenario's programme in the rulebook in force.

    Grouped in the database (scenario → programme as a CASE), so an account active in two scenarios of one
    programme is one account of it."""
    rulebook = _rulebook()
    mapping = {sid: s.programme for sid, s in rulebook.scenarios.items()} if rulebook else {}
    programme = sa.case(mapping, value=Action.scenario, else_="—") if mapping else sa.literal("—")
    names = dict(rulebook.programmes) if rulebook else {}
    return [_row("programme", pid, names.get(pid, {}).get("zh", pid), names.get(pid, {}).get("en", pid),
                 tuple(figures)) for pid, *figures in _breakdown(programme, period)]


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
    return [{"campaign": c.id, "name": c.name_zh, "name_en": c.name_en, "budget": c.budget_points,
             "spent": int(spent.get(c.id, 0)),
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
    # accounts: every account credited in the period, whatever its kind (the participants).
    return {"residents": counts.get(AccountKind.RESIDENT, 0), "households": int(households),
            "enterprises": counts.get(AccountKind.ENTERPRISE, 0), "accounts": sum(counts.values())}


#: Every chart on the dashboard: its id, how to compute it, and its columns (table and CSV, in order).
CHARTS = {
    "trend_day": (lambda p: trend(p, "day"), ("period", "grams", "points", "actions")),
    "trend_month": (lambda p: trend(p.whole_months(), "month"), ("period", "grams", "points", "actions")),
    "scenario": (by_scenario, ("scenario", "name", "grams", "points", "actions")),
    "district": (by_district, ("district", "name", "grams", "points", "actions")),
    "programme": (by_programme, ("programme", "name", "grams", "points", "actions")),
    "merchants": (top_merchants, ("merchant_id", "merchant", "vouchers", "points", "face_value_yuan")),
    "campaigns": (lambda _p: campaign_burn(), ("campaign", "name", "budget", "spent", "burnt_percent")),
}


@dataclass(frozen=True)
class CityFigures:
    """What the dashboard and the public page show: the ledger's totals (all time), the holders active in the
    period and each chart asked for, computed over the period."""

    period: Period
    totals: reports.LedgerTotals
    active: dict[str, int]
    series: dict[str, list[dict]]


def city_figures(period: Period, charts: tuple[str, ...] = tuple(CHARTS)) -> CityFigures:
    """The one computation behind the console's dashboard and the public page: the same ledger totals and
    the same breakdowns, so the two can never disagree."""
    return CityFigures(period, reports.ledger_totals(), active_holders(period),
                       {name: CHARTS[name][0](period) for name in charts})
