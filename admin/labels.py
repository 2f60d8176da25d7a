"""The console's words for the platform's codes (statuses, channels, kinds, roles): Chinese first, English through
the catalogue. Templates call ``label(value)``; a code with no word here is shown as it is (and the untranslated-
text test names it)."""

from __future__ import annotations

import enum

from flask import g
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.forms import PARTNER_KIND_NAMES, ROLE_NAMES
from carbon_platform.models import (
    AccountKind,
    ActionStatus,
    AdjustmentStatus,
    AdminRole,
    JournalKind,
    MemberRole,
    PartnerKind,
    RulebookStatus,
    VoucherStatus,
)

WORDS: dict[type[enum.Enum], dict[str, object]] = {
    ActionStatus: {"credited": _l("已计入"), "review": _l("待审核"), "rejected": _l("已驳回"),
                   "reversed": _l("已冲正")},
    AdjustmentStatus: {"pending": _l("待审批"), "applied": _l("已执行"), "rejected": _l("已驳回")},
    RulebookStatus: {"draft": _l("草稿"), "pending": _l("待审批"), "published": _l("已发布"), "retired": _l("已停用")},
    VoucherStatus: {"issued": _l("未使用"), "consumed": _l("已核销"), "cancelled": _l("已取消"),
                    "expired": _l("已过期")},
    # One account's kind (the words alone are the console's lists: 居民 is "Residents" in its menu).
    AccountKind: {"resident": lazy_pgettext("one", "居民"), "household": lazy_pgettext("one", "家庭"),
                  "enterprise": lazy_pgettext("one", "企业"), "merchant": lazy_pgettext("one", "商户")},
    MemberRole: {"head": _l("户主"), "member": _l("成员")},
    JournalKind: {"earn": _l("获得"), "spend": _l("兑换"), "release": _l("释放"), "expire": _l("过期"),
                  "reverse": _l("冲正"), "adjust": lazy_pgettext("one", "人工调整"), "refund": _l("退还"),
                  "close": _l("注销")},
}

CHANNELS = {"app": _l("App 自报"), "merchant_checkin": _l("商户扫码打卡")}

#: Why an action is not (yet) credited, in a word or two for lists (its receipt says it in full).
REASONS = {
    "review_required": _l("需人工审核"), "over_bound": _l("超出申报即计入的范围"), "implausible": _l("数据可疑"),
    "rejected_by_reviewer": lazy_pgettext("reason", "审核驳回"), "superseded": _l("已由合作方记录替代"),
    "ineligible": _l("不符合条件"),
    "invalid_input": _l("数据不符合要求"), "evidence_missing": _l("缺少照片"), "in_the_future": _l("时间晚于现在"),
    "outside_claim_window": _l("超过申报期限"), "unknown_scenario": _l("没有这个场景"),
    "channel_not_accepted": _l("渠道不受理"), "account_type_not_allowed": _l("账户类型不适用"),
    "excluded_by_other_scenario": _l("与其他场景互斥"), "no_factor_in_force": _l("没有生效的排放因子"),
    "calculation_failed": _l("计算出错"),
}


def reason_name(reason: str | None) -> str:
    """A reason code in a word or two; a code without words as it is."""
    return str(REASONS[reason]) if reason in REASONS else (reason or "")


def channel_name(channel: str) -> str:
    """``app``, ``merchant_checkin`` and ``partner:<kind>`` by name; anything else as it is."""
    if channel in CHANNELS:
        return str(CHANNELS[channel])
    prefix, _sep, kind = channel.partition(":")
    if prefix == "partner" and kind in PartnerKind._value2member_map_:
        return _("合作方：%(kind)s", kind=PARTNER_KIND_NAMES[PartnerKind(kind)])
    return channel


def label(value) -> str:
    """The word for an enum member (or a role); the value itself when there is none."""
    if isinstance(value, enum.Enum):
        if isinstance(value, AdminRole):
            return str(ROLE_NAMES[value])
        word = WORDS.get(type(value), {}).get(value.value)
        return str(word) if word is not None else str(value.value)
    if isinstance(value, str):  # a status sent as its value (filters' pick lists): the same word in every enum
        for words in WORDS.values():
            if value in words:
                return str(words[value])
    return "" if value is None else str(value)


#: The plan's ten programmes are numbered 一 to 十; English pages number them 1 to 10.
NUMERALS = {numeral: str(n) for n, numeral in enumerate("一二三四五六七八九十", start=1)}


def programme_number(numeral: str) -> str:
    return NUMERALS.get(numeral, numeral) if str(get_locale()) == "en" else numeral


def scenario_name(scenario_id: str) -> str:
    """A scenario by its name in the rulebook in force (looked up once a request), its id if that has none."""
    from admin import choices  # the pick lists read the database; labels only need them at render time

    if "scenario_names" not in g:
        g.scenario_names = dict(choices.scenarios())
    return g.scenario_names.get(scenario_id, scenario_id)
