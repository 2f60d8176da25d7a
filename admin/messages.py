"""The console's wording for the domain errors it shows: Chinese first (English through the catalogue),
chosen by the error's stable code. Services speak English (the API's language); a page must not."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import get_locale
from flask_babel import gettext as _

from carbon_platform.errors import DomainError
from carbon_platform.services.rulebooks import RulebookInvalid
from points_rules.problems import Problem

#: code → the message, given the error's details. Codes not listed: the service's text in English, a message by
#: the error's status in Chinese (a Chinese page never shows the service's English).
MESSAGES: dict[str, Callable[[dict], str]] = {
    "rulebook_draft_stale": lambda d: _(
        "此草稿基于版本 %(base)s，之后已发布版本 %(latest)s；发布它会撤销 %(latest)s 的改动。"
        "请从 %(latest)s 新建草稿。", base=d.get("base") or _("（未知）"), latest=d.get("latest")),
    "rulebook_draft_early": lambda d: _(
        "此版本的生效时间早于它所基于的版本 %(base)s（%(at)s 起生效），否则会被该版本覆盖；"
        "请重新提交，生效时间不早于该时间。", base=d.get("base"), at=d.get("base_effective_from")),
    "authentication_failed": lambda d: _("当前密码错误"),
    "password_unchanged": lambda d: _("新密码不能与当前密码相同"),
    "self_approval": lambda d: _("需要另一位管理员决定：这是您自己提交的。"),
    "not_pending": lambda d: _("这个版本不在等待审批。"),
    "not_a_draft": lambda d: _("只有草稿可以修改或提交。"),
    "version_exists": lambda d: _("这个版本号已经存在，请换一个版本号。"),
    "invalid_base": lambda d: _("草稿必须基于一个已发布的版本。"),
    "reason_required": lambda d: _("请填写原因（最多 500 字）。"),
    "not_in_review": lambda d: _("这条行为已不在审核队列中。"),
    "bulk_limit": lambda d: _("请选择 1 到 %(n)s 条行为。", n=d.get("limit")),
    "bulk_too_large": lambda d: _("超过 %(n)s 积分的行为需要逐条审批：%(ids)s",
                                  n=d.get("max_points"), ids=", ".join(map(str, d.get("action_ids", [])))),
    "not_found": lambda d: _("没有找到。"),
    "enterprise_not_found": lambda d: _("没有找到这家企业：它没有向本机构授权，或授权已撤销、已到期。"),
    "statement_not_found": lambda d: _("没有找到这份对账单：它所属的企业没有向本机构授权，或授权已撤销、已到期。"),
    "institution_exists": lambda d: _("这个统一社会信用代码的金融机构已经登记过。"),
    "institution_not_found": lambda d: _("没有这个金融机构，请从列表中选择。"),
    "institution_required": lambda d: _("银行角色的账号必须选择所属金融机构。"),
    "institution_not_allowed": lambda d: _("只有银行角色的账号属于金融机构；其他角色请选择“无”。"),
    "secret_already_rotated": lambda d: _(
        "密钥已经轮换过（例如刷新了显示新密钥的页面），这次没有再轮换。上次显示的新密钥有效；"
        "如果没有记下，请再轮换一次。"),
    "invalid_rate_limit": lambda d: _("请求速率的写法如 “600 per minute”（每分钟 600 次）。"),
    "campaign_over": lambda d: _("这个活动已经结束。"),
    "voucher_not_open": lambda d: _("这张券已不能取消（已使用、已取消或已过期）。"),
    "stock_too_low": lambda d: _("库存不足，不能减少这么多。"),
    "self_deactivation": lambda d: _("不能停用或启用自己的账号，请另一位超级管理员操作。"),
    "stock_too_high": lambda d: _("库存不能超过 %(n)s。", n=d.get("maximum")),
    "unknown_checkin_scenario": lambda d: _("现行规则中没有这个商户打卡场景：%(s)s。请从列表中勾选。",
                                            s="、".join(d.get("scenarios", []))),
    # The structured rulebook forms (carbon_platform/services/rulebook_edits.py).
    "edit_unparsable": lambda d: _("所基于的版本不是有效的 YAML，请在 YAML 编辑器中修改。"),
    "edit_unplaceable": lambda d: _("无法在所基于版本的 YAML 中定位要修改的内容（写法不同于常规格式），"
                                    "请在 YAML 编辑器中修改。"),
    "unknown_cap": lambda d: _("现行规则中没有这个上限。"),
    "unknown_trust_rule": lambda d: _("现行规则中这个场景没有这个渠道的可信规则。"),
    "unknown_factor": lambda d: _("现行规则中没有排放因子 %(f)s。", f=d.get("factor")),
    "factor_starts_too_early": lambda d: _("新数值的生效日期须晚于现有版本的生效日期（%(d)s）。",
                                           d=d.get("after")),
    "factor_gap": lambda d: _("现有版本到 %(d)s 为止；新数值须不晚于该日生效，否则中间没有可用的数值。",
                              d=d.get("ends")),
    "already_decided": lambda d: _("这项申请已经处理过了。"),
    "account_closed": lambda d: _("这个账户已注销（持有人已删除账户）。"),
    "account_frozen": lambda d: _("这个账户已冻结。"),
    "insufficient_points": lambda d: _("可用积分不足。"),
    "invalid_amount": lambda d: _("数量须为大于零的整数。"),
    "merchant_inactive": lambda d: _("这个商户目前未营业或已停用。"),
    "idempotency_key_reused": lambda d: _("这次提交与之前的一次重复但内容不同，未做任何更改。请刷新页面后重试。"),
    "no_rulebook": lambda d: _("现在没有生效的规则版本，请先发布一个版本。"),
    # A reward's picture, cleaned as evidence photos are (carbon_platform/services/evidence.py).
    "invalid_photo": lambda d: _("无法识别这张图片，请上传 JPEG、PNG 或 WebP 图片。"),
    "photo_too_large": lambda d: _("图片太大（像素超过上限），请缩小后再上传。"),
    "username_invalid": lambda d: _("用户名只能包含字母、数字、“.”和“_”，最多 64 个字符。"),
    "username_taken": lambda d: _("这个用户名已被使用。"),
    "password_too_short": lambda d: _("密码至少需要 %(n)s 个字符。", n=d.get("minimum")),
    "reason_length": lambda d: _("请填写原因（%(a)s 到 %(b)s 个字）。", a=d.get("minimum"), b=d.get("maximum")),
    "adjustment_points": lambda d: _("调整的积分须为不等于 0 的整数。"),
    "uscc_required": lambda d: _("个体工商户须填写统一社会信用代码。"),
    "staff_exists": lambda d: _("这个手机号已是该商户的店员。"),
    "number_out_of_range": lambda d: _("须为 %(a)s 到 %(b)s 之间的整数。", a=d.get("minimum"), b=d.get("maximum")),
    "unknown_district": lambda d: _("没有这个区县：%(d)s。", d=d.get("district")),
    "window_backwards": lambda d: _("结束时间须晚于开始时间。"),
    "limit_incomplete": lambda d: _("限兑须同时填写次数和周期。"),
    "stock_change_invalid": lambda d: _("库存变动须为不等于 0 的整数，增减最多 %(n)s。", n=d.get("maximum")),
    "month_invalid": lambda d: _("月份的写法如 2026-06。"),
    "too_many_months": lambda d: _("一份报表最多包含 %(n)s 个月。", n=d.get("maximum")),
}

#: (code, field) → the message, for the platform's shared checks that raise the general code with the field they
#: refused (the API answers ``invalid_input`` for them, and its clients rely on it): what the console can send them.
BY_FIELD: dict[tuple[str, str], Callable[[dict], str]] = {
    ("invalid_input", "phone"): lambda d: _("手机号不正确：请填写 11 位中国大陆手机号（13–19 开头）。"),
    ("invalid_input", "uscc"): lambda d: _("统一社会信用代码不正确：应为 18 位，且校验位正确。"),
    ("invalid_input", "district"): lambda d: _("没有这个区县。"),
    # accounts.clean_name, for the names the console's forms send
    **{("invalid_input", name): (lambda d: _("名称须为 1 到 %(n)s 个字符。", n=d.get("maximum")))
       for name in ("name", "display_name", "name_zh", "name_en")},
}

#: By the error's HTTP status, for codes without their own wording (Chinese pages only).
BY_STATUS: dict[int, Callable[[], str]] = {
    403: lambda: _("没有权限执行这个操作。"),
    404: lambda: _("没有找到。"),
    409: lambda: _("与当前状态冲突，未做任何更改。请刷新页面后重试。"),
    422: lambda: _("输入无效，未做任何更改。请检查后重新提交。"),
    429: lambda: _("操作太频繁，请稍后再试。"),
}


def message_for(error: DomainError) -> str:
    """What the console shows for ``error``, in the console's language."""
    if isinstance(error, RulebookInvalid) and hasattr(error, "problems"):
        # A campaign's draft the rulebook refuses (the YAML editor marks each problem at its line instead): its
        # problems in the page's language; the details keep the API's English.
        return _("规则有问题，未保存：%(problems)s",
                 problems="; ".join(f"{path}: {problem_words(problem)}" for _line, path, problem in error.problems))
    wording = MESSAGES.get(error.code) or BY_FIELD.get((error.code, error.details.get("field")))
    if wording:
        return wording(error.details)
    if str(get_locale()) == "en":
        return error.message
    generic = BY_STATUS.get(error.status)
    return generic() if generic else _("无法完成操作，未做任何更改。")


#: Codes worded by ``message_for`` other than through MESSAGES.
WORDED_APART = {RulebookInvalid.code}


def problem_words(problem: str) -> str:
    """A rulebook problem (``points_rules.problems``) in the console's language."""
    if isinstance(problem, Problem):
        return problem.words("en" if str(get_locale()) == "en" else "zh")
    return problem  # not the loader's: as written
