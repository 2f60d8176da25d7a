"""The scenarios of the rulebook in force, read-only and in words: programme, kind, each channel and whether
the platform can credit it now (``services.reach``: which scenarios can actually be earned), evidence and
review rules (each channel's trust rule in words: ``trust_words``), exclusions and caps."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.blueprint import blueprint
from admin.forms import PARTNER_KIND_NAMES
from admin.permissions import requires
from carbon_platform.clock import utcnow
from carbon_platform.models import PartnerKind
from carbon_platform.services import reach, rulebooks
from points_rules import Period
from points_rules.rulebook import Cap, Scenario
from points_rules.trust import Trust

KINDS = {"reduction": _l("减排：核证减排量并奖励积分"), "incentive": _l("激励：只奖励积分，不计减排量")}
EVIDENCE = {"none": _l("不需上传照片"), "photo": _l("需上传一张照片"),
            "photo_and_certificate": _l("需上传现场照片和证明材料照片各一张")}
REASONS = {
    reach.SELF_REPORT: _l("居民或企业可在应用中自行上报"),
    reach.NO_SELF_REPORTING_ACCOUNT: _l("只适用于家庭账户，而家庭不能在应用中自行上报"),
    reach.NO_ACTIVE_PARTNER: _l("还没有启用的这类合作方"),
    reach.PARTNERS_NOT_ALLOWED: _l("这类合作方都未获准上报此场景"),
    reach.UNKNOWN_PARTNER_KIND: _l("平台没有这类合作方，无法登记"),
    reach.NO_MERCHANT_OFFERS: _l("还没有启用的商户提供这一低碳场景打卡（在商户资料中勾选）"),
    reach.UNKNOWN_CHANNEL: _l("平台不认识这种渠道"),
}
PERIODS = {Period.DAY: _l("每天"), Period.WEEK: _l("每周"), Period.MONTH: _l("每月"), Period.YEAR: _l("每年"),
           Period.EVER: _l("累计")}
SCOPES = {"account": _l("每个账户"), "household": _l("每户所有成员合计")}


@dataclass(frozen=True)
class ChannelLine:
    words: str
    reach: reach.ChannelReach
    why: str
    trust: str = ""  # what the channel trusts, in words (``trust_words``)


@dataclass(frozen=True)
class ScenarioRow:
    scenario: Scenario
    channels: list[ChannelLine]
    creditable: bool


def channel_words(channel: str) -> str:
    if channel == "app":
        return _("应用内自报")
    if channel == "merchant_checkin":
        return _("商户扫码打卡")
    kind = channel.removeprefix(reach.PARTNER_PREFIX)
    known = kind in {k.value for k in PartnerKind}
    return _("合作方数据：%(kind)s", kind=PARTNER_KIND_NAMES[PartnerKind(kind)] if known else kind)


def why(line: reach.ChannelReach) -> str:
    if line.reason == reach.ACTIVE_PARTNER:
        return _("%(n)s 个启用的合作方可以上报", n=line.partners)
    if line.reason == reach.ACTIVE_MERCHANT:
        return _("%(n)s 家启用的商户提供扫码打卡", n=line.merchants)
    return str(REASONS[line.reason])


def trust_words(trust: Trust, scenario: Scenario) -> str:
    """A channel's trust rule (``points_rules.trust``) in a sentence: what a report carries, its bounds, review."""
    if trust.as_reported:
        return _("按上报的数据计入：不需照片，不逐条审核")
    parts = []
    if trust.evidence != "none":
        parts.append(_("%(evidence)s，缺少照片的申报不予计入", evidence=EVIDENCE[trust.evidence]))
    if trust.count_per_day is not None:
        parts.append(_("每天凭申报至多计入 %(n)s 次", n=format_decimal(trust.count_per_day)))
    inputs = {i.name: i for i in scenario.inputs}
    for name, limit in trust.input_bounds:
        spec = inputs.get(name)
        label = ((spec.label_en if get_locale_is_en() else spec.label_zh) if spec else None) or name
        parts.append(_("%(input)s 凭申报至多 %(n)s %(unit)s", input=label, n=format_decimal(limit),
                       unit=spec.unit if spec else ""))
    if trust.bounded:
        parts.append(_("超出的转人工审核后计入"))
    if trust.review_always:
        parts.append(_("每次都经人工审核后计入"))
    return _("；").join(str(p) for p in parts)


def get_locale_is_en() -> bool:
    return str(get_locale() or "zh_CN").startswith("en")


def cap_words(cap: Cap) -> str:
    values = {"per": PERIODS[cap.per], "n": format_decimal(cap.limit), "scope": SCOPES[cap.scope]}
    if cap.unit == "grams":
        return _("%(per)s最多 %(n)s 克 CO₂e 减排量，%(scope)s", **values)
    if cap.unit == "points":
        return _("%(per)s最多 %(n)s 积分，%(scope)s", **values)
    if cap.limit == 1:
        return _("%(per)s最多一次，%(scope)s", per=values["per"], scope=values["scope"])
    return _("%(per)s最多 %(n)s 次，%(scope)s", **values)


@blueprint.get("/scenarios")
@requires("rules.view")
def scenario_reach():
    try:
        in_force = rulebooks.rules_in_force(utcnow())
    except rulebooks.NoRulebookInForce:
        return render_template("admin/scenarios/list.html", rulebook=None, rows=[])
    rulebook = in_force.rulebook
    channels = reach.Reach(rulebook)
    rows = []
    for scenario in rulebook.scenarios.values():
        lines = [ChannelLine(channel_words(c.channel), c, why(c), trust_words(c.trust, scenario))
                 for c in channels.of(scenario)]
        rows.append(ScenarioRow(scenario, lines, any(line.reach.creditable for line in lines)))
    return render_template("admin/scenarios/list.html", rulebook=rulebook, rows=rows,
                           kinds=KINDS, evidence=EVIDENCE, cap_words=cap_words,
                           creditable_count=sum(row.creditable for row in rows))
