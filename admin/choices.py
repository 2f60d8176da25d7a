"""The console's pick lists: scenarios, districts and account types by their names in the console's language, so an
operator ticks 公交出行 or 泰山区 and never types ``bus_ride`` or ``370902`` (issue #19, item 1). The forms check
what comes back against the same lists, so a name where a code belongs cannot be saved."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import District, FinancialInstitution
from carbon_platform.services import energy_reports, rulebooks
from points_rules import Rulebook

ACCOUNT_TYPE_NAMES = {"resident": _l("居民"), "household": _l("家庭"), "enterprise": _l("企业")}


def english() -> bool:
    return str(get_locale()) == "en"


def rulebook_in_force() -> Rulebook | None:
    try:
        return rulebooks.rules_in_force(utcnow()).rulebook
    except rulebooks.NoRulebookInForce:
        return None


def scenarios(rulebook: Rulebook | None = None, *, channel: str | None = None) -> list[tuple[str, str]]:
    """The rulebook's scenarios (the one in force by default) in its own order, by name; with ``channel``, only
    those that channel may credit (a partner kind's ``partner:<kind>``)."""
    rulebook = rulebook or rulebook_in_force()
    if rulebook is None:
        return []
    en = english()
    return [(sid, s.name_en if en else s.name_zh) for sid, s in rulebook.scenarios.items()
            if channel is None or channel in s.channels]


def districts() -> list[tuple[str, str]]:
    """The city's districts and zones, in the reference table's order, by name."""
    en = english()
    rows = db.session.execute(sa.select(District).order_by(District.sort_order, District.code)).scalars()
    return [(d.code, d.name_en if en else d.name_zh) for d in rows]


def industries() -> list[tuple[str, str]]:
    """The GB/T 4754-2017 divisions an enterprise may be classified under, by code and name."""
    en = english()
    return [(code, f"{code} {i.name_en if en else i.name_zh}") for code, i in energy_reports.industries().items()]


def institutions() -> list[tuple[str, str]]:
    """The institution a new administrator belongs to: none (the city's staff), or a financial institution."""
    rows = db.session.execute(sa.select(FinancialInstitution).order_by(FinancialInstitution.name)).scalars()
    return [("", str(_l("无（市级工作人员）")))] + [(str(i.id), i.name) for i in rows]


def account_types() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in ACCOUNT_TYPE_NAMES.items()]
