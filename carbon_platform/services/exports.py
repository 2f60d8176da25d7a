"""Exports: the monthly reduction report's rows (the console writes them as CSV and XLSX, ``admin.downloads``)
and certified reductions as JSON for a provincial platform.

Both read credited actions in a Beijing calendar month. The JSON carries, for every record, the
methodology and rulebook version it was credited under and the factors (value, unit, source, year)
from its stored receipt, so the receiving platform can re-check each figure. Accounts appear only as
a keyed hash: no names, no phone numbers.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import CITY_TZ, as_utc, utcnow
from carbon_platform.errors import InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, District, RulebookVersion

REPORT_COLUMNS = ("month", "district", "district_name", "scenario", "credit", "actions", "grams", "tonnes", "points")
#: What a credit is, in the report's ``credit`` column: certified grams (which may be handed to the province), or
#: incentive points alone (steps, planting, pack-out: no certified grams).
CERTIFIED, INCENTIVE = "certified_reduction", "incentive_points"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-06' → [start, end) in UTC of that Beijing month."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInput("a month is written YYYY-MM", code="month_invalid", field="month") from None
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return (as_utc(datetime.combine(first, time(0), tzinfo=CITY_TZ)),
            as_utc(datetime.combine(following, time(0), tzinfo=CITY_TZ)))


#: The longest span one report covers: three years of months.
MAX_MONTHS = 36


def months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included ('2026-01', '2026-11' → eleven months)."""
    start, end = month_bounds(first)[0], month_bounds(last)[0]  # each checks its month is written YYYY-MM
    if end < start:
        first, last = last, first
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while (f"{year}-{month:02d}") <= last:
        out.append(f"{year}-{month:02d}")
        year, month = year + (month == 12), month % 12 + 1
        if len(out) > MAX_MONTHS:
            raise InvalidInput(f"a report covers at most {MAX_MONTHS} months", code="too_many_months", field="to",
                               maximum=MAX_MONTHS)
    return out


def last_month() -> str:
    today = utcnow().astimezone(CITY_TZ).date()
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"


def _credited(month: str):
    start, end = month_bounds(month)
    return [Action.status == ActionStatus.CREDITED, Action.occurred_at >= start, Action.occurred_at < end]


def monthly_reduction(month: str) -> list[dict[str, Any]]:
    """Per district, scenario and kind of credit: credited actions, grams, tonnes and points in the Beijing month.

    A scenario's credits are certified reductions (grams) or incentive points (no grams), and one scenario may
    have both in a month when a new rulebook version changes its kind (walking in 2026.2): they are separate rows.
    """
    names = dict(db.session.execute(sa.select(District.code, District.name_zh)).all())
    credit = sa.case((Action.grams > 0, CERTIFIED), else_=INCENTIVE)
    rows = db.session.execute(
        sa.select(Action.district, Action.scenario, credit, sa.func.count(), sa.func.sum(Action.grams),
                  sa.func.sum(Action.points))
        .where(*_credited(month)).group_by(Action.district, Action.scenario, credit)
        .order_by(Action.district, Action.scenario, credit)
    ).all()
    return [{"month": month, "district": d or "", "district_name": names.get(d, ""), "scenario": s, "credit": c,
             "actions": int(n), "grams": int(g or 0), "tonnes": round(int(g or 0) / 1_000_000, 6),
             "points": int(p or 0)}
            for d, s, c, n, g, p in rows]


def _pseudonym(account_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"export-account:{account_id}".encode(), hashlib.sha256).hexdigest()[:24]


def certified_reductions(month: str) -> dict[str, Any]:
    """Every certified reduction credited in the month, with its methodology and factor references."""
    versions = {v.id: v for v in db.session.execute(sa.select(RulebookVersion)).scalars()}
    records, methodologies, factors, grams = [], {}, {}, 0
    for action in db.session.execute(sa.select(Action).where(*_credited(month), Action.grams > 0)
                                     .order_by(Action.occurred_at, Action.id)).scalars():
        receipt = action.receipt or {}
        version = versions.get(action.rulebook_version_id)
        key = f"{action.scenario}@{receipt.get('methodology_version')}"
        methodologies.setdefault(key, {"scenario": action.scenario, "name": receipt.get("scenario_name", {}),
                                       "methodology_version": receipt.get("methodology_version"),
                                       "formula": receipt.get("formula")})
        used = []
        for factor in receipt.get("factors", []):
            ref = f"{factor['id']}@{factor['year']}"
            factors.setdefault(ref, dict(factor))
            used.append(ref)
        grams += action.grams
        records.append({
            "record_id": f"taian-{action.id}", "account": _pseudonym(action.account_id), "scenario": action.scenario,
            "district": action.district, "occurred_at": action.occurred_at.isoformat(),
            "credited_at": action.received_at.isoformat(), "grams_co2e": action.grams, "methodology": key,
            "rulebook": {"id": version.rulebook, "version": version.version} if version else None,
            "factors": used, "inputs": action.inputs, "channel": action.channel,
        })
    return {
        "format": "carbon-inclusion-certified-reductions/1", "platform": "碳惠泰安", "city": "泰安市",
        "period": month, "generated_at": utcnow().isoformat(),
        "units": {"grams_co2e": "g CO2e, rounded down per record"},
        "totals": {"records": len(records), "grams_co2e": grams, "tonnes_co2e": round(grams / 1_000_000, 6)},
        "methodologies": methodologies, "factors": factors, "records": records,
    }
