"""Which channels of a rulebook the platform can credit now, and why not (issue #17: every scenario reachable).

A rulebook may name a channel nothing can feed: a partner kind nobody is registered as, or a merchant check-in
with no endpoint behind it. This says so per scenario and channel, from the partners registered now:

- ``app``: a self-report (``POST /actions``), by the account types that log in to report, residents and
  enterprises; a scenario only for households cannot be self-reported.
- ``partner:<kind>``: only while an active partner of that kind may report the scenario (its
  ``allowed_scenarios`` empty or naming it), since ``feeds`` credits a partner's events on ``partner:<kind>``.
  Every account type can hold the bindings and consent a feed needs: residents and enterprises their own
  (``/me/bindings``), households theirs through their head (``/households/{id}/bindings``: the electricity
  meter, so ``electricity_saving``, for households only, is really earnable).
- each channel's trust rule (``points_rules.trust``) goes with it: what a report on it must carry, its bounds, and
  whether a reviewer sees it; the catalogue and the console put it into words.
- ``merchant_checkin``: only while an active merchant offers the scene (``Merchant.checkin_scenarios``, set in
  the console), since a resident checks in by scanning that merchant's code (``services.checkins``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import Merchant, Partner, PartnerKind
from points_rules import Rulebook
from points_rules.rulebook import Scenario
from points_rules.trust import Trust

#: The account types that log in and report in the app (``mobile_api.auth.holder_required``).
SELF_REPORTING = frozenset({"resident", "enterprise"})
PARTNER_PREFIX = "partner:"
_PARTNER_KINDS = frozenset(kind.value for kind in PartnerKind)

#: Why a channel can or cannot be credited now: stable codes, which the console puts into words.
SELF_REPORT = "self_report"  # a resident or an enterprise reports it in the app
NO_SELF_REPORTING_ACCOUNT = "no_self_reporting_account"  # only for account types that cannot report in the app
ACTIVE_PARTNER = "active_partner"  # an active partner of the kind may report it
NO_ACTIVE_PARTNER = "no_active_partner"  # no partner of the kind is registered and active
PARTNERS_NOT_ALLOWED = "partners_not_allowed"  # active partners of the kind exist, none allowed this scenario
UNKNOWN_PARTNER_KIND = "unknown_partner_kind"  # no partner can be registered as that kind
ACTIVE_MERCHANT = "active_merchant"  # an active merchant offers the scene: residents check in with its code
NO_MERCHANT_OFFERS = "no_merchant_offers"  # no active merchant offers the scene
UNKNOWN_CHANNEL = "unknown_channel"  # a channel the platform does not know (the rulebook schema admits none)
REASONS = (SELF_REPORT, NO_SELF_REPORTING_ACCOUNT, ACTIVE_PARTNER, NO_ACTIVE_PARTNER, PARTNERS_NOT_ALLOWED,
           UNKNOWN_PARTNER_KIND, ACTIVE_MERCHANT, NO_MERCHANT_OFFERS, UNKNOWN_CHANNEL)


@dataclass(frozen=True)
class ChannelReach:
    """Whether ``channel`` of a scenario can be credited now, why, and (partner channels) by how many partners."""

    channel: str
    creditable: bool
    reason: str
    partners: int = 0
    #: What the channel trusts (``Scenario.trust_for``): as reported, evidence, bounds or review; set by ``Reach.of``.
    trust: Trust | None = None
    merchants: int = 0


@dataclass(frozen=True)
class _ActivePartner:
    kind: str
    allowed: frozenset[str]  # empty: every scenario its kind reports

    def may_report(self, scenario_id: str) -> bool:
        return not self.allowed or scenario_id in self.allowed


class Reach:
    """The channels of every scenario of one rulebook against the partners active now (read once)."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        rows = db.session.execute(sa.select(Partner.kind, Partner.allowed_scenarios).where(Partner.active)).all()
        self._partners = [_ActivePartner(kind.value, frozenset(allowed or ())) for kind, allowed in rows]
        self._offered: dict[str, int] = {}  # scenario -> how many active merchants offer it
        for (scenes,) in db.session.execute(sa.select(Merchant.checkin_scenarios).where(Merchant.active)):
            for scenario_id in set(scenes or ()):
                self._offered[scenario_id] = self._offered.get(scenario_id, 0) + 1

    def of(self, scenario: Scenario) -> list[ChannelReach]:
        """Each channel of ``scenario``, in the order the catalogue lists channels (sorted)."""
        return [replace(self.channel(scenario, channel), trust=scenario.trust_for(channel))
                for channel in sorted(scenario.channels)]

    def channel(self, scenario: Scenario, channel: str) -> ChannelReach:
        if channel == "app":
            if scenario.account_types & SELF_REPORTING:
                return ChannelReach(channel, True, SELF_REPORT)
            return ChannelReach(channel, False, NO_SELF_REPORTING_ACCOUNT)
        if channel.startswith(PARTNER_PREFIX):
            kind = channel.removeprefix(PARTNER_PREFIX)
            if kind not in _PARTNER_KINDS:
                return ChannelReach(channel, False, UNKNOWN_PARTNER_KIND)
            of_kind = [p for p in self._partners if p.kind == kind]
            allowed = sum(p.may_report(scenario.id) for p in of_kind)
            if allowed:
                return ChannelReach(channel, True, ACTIVE_PARTNER, partners=allowed)
            return ChannelReach(channel, False, PARTNERS_NOT_ALLOWED if of_kind else NO_ACTIVE_PARTNER)
        if channel == "merchant_checkin":
            offering = self._offered.get(scenario.id, 0)
            if offering:
                return ChannelReach(channel, True, ACTIVE_MERCHANT, merchants=offering)
            return ChannelReach(channel, False, NO_MERCHANT_OFFERS)
        return ChannelReach(channel, False, UNKNOWN_CHANNEL)
