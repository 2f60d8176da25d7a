"""How the audit log reads to a person: each event's action by name, and its details as rows of field,
before and after, the text as written (never ``\\u6cf0`` escapes or raw JSON).

Works on every row ever written: details are whatever JSON the services recorded. A ``before``/``after`` pair
(two objects, or two values of one field) becomes the changed fields; every other key is one row with its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_datetime, lazy_pgettext
from flask_babel import lazy_gettext as _l

from admin.forms import ROLE_NAMES
from carbon_platform.models import AdminRole

ACTION_NAMES = {
    "account.freeze": _l("冻结账户"),
    "account.unfreeze": _l("解冻账户"),
    "action.approve": _l("审核通过"),
    "action.reject": _l("审核驳回"),
    "action.request_evidence": _l("要求补充证明"),
    "adjustment.request": _l("申请人工调整"),
    "adjustment.apply": _l("执行人工调整"),
    "adjustment.reject": _l("驳回人工调整"),
    "admin.create": _l("新建管理员"),
    "admin.activate": _l("启用管理员"),
    "admin.deactivate": _l("停用管理员"),
    "admin.login": _l("管理员登录"),
    "admin.logout": _l("管理员退出"),
    "admin.password_change": _l("修改密码"),
    "campaign.pause": _l("暂停活动"),
    "campaign.resume": _l("恢复活动"),
    "campaign.end": _l("结束活动"),
    "enterprise.register": _l("登记企业"),
    "enterprise.classify": _l("修改企业行业与重点用能单位"),
    "enterprise.site.add": _l("添加企业厂区"),
    "enterprise.report.submit": _l("提交能源报告"),
    "enterprise.report.correct": _l("更正能源报告"),
    "enterprise.output.declare": _l("申报产值"),
    "enterprise.statement.issue": _l("签发企业碳账户对账单"),
    "enterprise.statement.batch": _l("批量签发年度对账单"),
    "institution.register": _l("登记金融机构"),
    "bank.grant": _l("企业向银行授权"),
    "bank.revoke": _l("企业撤销银行授权"),
    "bank.view": _l("银行查看企业"),
    "export.download": _l("下载导出文件"),
    "merchant.register": _l("登记商户"),
    "merchant.checkin_scenarios": _l("修改商户打卡场景"),
    "merchant.staff.add": _l("添加商户店员"),
    "merchant.staff.activate": _l("启用商户店员"),
    "merchant.staff.deactivate": _l("停用商户店员"),
    "partner.register": _l("登记合作方"),
    "partner.update": _l("修改合作方"),
    "partner.secret.rotate": _l("轮换合作方密钥"),
    "partner.secret.revoke": _l("吊销合作方旧密钥"),
    "partner.legacy_signature": _l("设置旧签名方式期限"),
    "resident.delete": _l("居民注销账号"),
    "reward.create": _l("新建奖品"),
    "reward.update": _l("修改奖品"),
    "reward.stock": _l("调整奖品库存"),
    "reward.picture": _l("更换奖品图片"),
    "rulebook.draft": _l("新建规则草稿"),
    "rulebook.submit": _l("提交规则审批"),
    "rulebook.publish": _l("发布规则"),
    "rulebook.reject": _l("驳回规则"),
    "settlement.export": _l("下载结算表"),
    "voucher.consume": _l("核销券"),
    "voucher.cancel": _l("取消券"),
    "voucher.scan_throttled": _l("扫码过于频繁"),
}

ACTOR_TYPES = {"admin": lazy_pgettext("one", "管理员"), "system": _l("系统"), "cli": _l("命令行"),
               "resident": lazy_pgettext("one", "居民"), "merchant_staff": lazy_pgettext("one", "商户店员"),
               "enterprise": lazy_pgettext("one", "企业")}
#: What a bank's staff opened (``bank.view``; services.bank_access.VIEWS).
BANK_VIEWS = {"enterprise": _l("企业页面（碳效等级与对账单）"), "statement_pdf": _l("下载对账单 PDF"),
              "statement_json": _l("下载对账单 JSON")}

FIELD_NAMES = {
    "account_id": lazy_pgettext("one", "账户"),
    "active": _l("启用"),
    "allowed_scenarios": _l("允许的场景"),
    "checkin_scenarios": _l("打卡场景"),
    "delta": _l("变化量"),
    "effective_from": _l("生效时间"),
    "ended_at": _l("结束时间"),
    "file": _l("文件"),
    "from": _l("开始日期"),
    "grams": _l("减排量（克 CO₂e）"),
    "journal_id": _l("记账凭证"),
    "key_id": _l("密钥 ID"),
    "limit": _l("限额"),
    "merchant": lazy_pgettext("one", "商户"),
    "merchant_id": lazy_pgettext("one", "商户"),
    "message": _l("留言"),
    "month": _l("月份"),
    "name": _l("名称"),
    "note": _l("备注"),
    "photos": _l("照片数"),
    "points": lazy_pgettext("header", "积分"),
    "points_cancelled": _l("取消的积分"),
    "rate_limit": _l("请求速率"),
    "reason": _l("原因"),
    "role": _l("角色"),
    "rulebook": _l("规则集"),
    "secret_id": _l("密钥编号"),
    "selection": _l("筛选条件"),
    "stock_after": _l("调整后库存"),
    "submitted_by": _l("提交人"),
    "to": _l("结束日期"),
    "until": _l("截止时间"),
    "username": _l("用户名"),
    "name_zh": _l("名称（中文）"),
    "name_en": _l("名称（英文）"),
    "description_zh": _l("说明（中文）"),
    "description_en": _l("说明（英文）"),
    "points_price": _l("所需积分"),
    "limit_count": _l("每人限领"),
    "limit_period": _l("限领周期"),
    "districts": _l("适用区县"),
    "starts_at": _l("开始时间"),
    "ends_at": _l("结束时间"),
    "voucher_days": _l("券有效天数"),
    "face_value_fen": _l("面值（分）"),
    "funder": _l("出资方"),
    "sponsor": _l("赞助方"),
    "refund_on_expiry": _l("过期退还积分"),
    "uscc": _l("统一社会信用代码"),
    "version": _l("版本"),
    "vouchers_cancelled": _l("取消的券"),
    "industry_code": _l("行业代码"),
    "key_energy_user": _l("重点用能单位"),
    "enterprise_id": lazy_pgettext("one", "企业"),
    "site_id": _l("厂区"),
    "period": _l("报告期"),
    "total_kg": _l("排放量（千克 CO₂e）"),
    "number": _l("版本号"),
    "serial": _l("编号"),
    "statements": _l("对账单数"),
    "year": _l("年份"),
    "output_yuan": _l("产值（元）"),
    "institution": lazy_pgettext("one", "金融机构"),
    "institution_id": _l("金融机构编号"),
    "grant": _l("授权编号"),
    "replaces": _l("取代的授权"),
    "view": _l("查看内容"),
}

#: What an event was done to, by the table its object lives in (a singular noun, so ``pgettext("one", …)``).
TARGET_NAMES = {
    "actions": lazy_pgettext("one", "行为记录"),
    "adjustment_requests": lazy_pgettext("one", "人工调整"),
    "administrators": lazy_pgettext("one", "管理员"),
    "authorisations": lazy_pgettext("one", "场景授权"),
    "campaign_budgets": lazy_pgettext("one", "活动预算"),
    "campaign_controls": lazy_pgettext("one", "活动"),
    "carbon_accounts": lazy_pgettext("one", "碳账户"),
    "energy_reports": lazy_pgettext("one", "能源报告"),
    "enterprise_outputs": lazy_pgettext("one", "产值申报"),
    "enterprise_sites": lazy_pgettext("one", "厂区"),
    "enterprise_statements": lazy_pgettext("one", "对账单"),
    "enterprises": lazy_pgettext("one", "企业"),
    "financial_institutions": lazy_pgettext("one", "金融机构"),
    "households": lazy_pgettext("one", "家庭"),
    "merchant_staff": lazy_pgettext("one", "商户店员"),
    "merchants": lazy_pgettext("one", "商户"),
    "partners": lazy_pgettext("one", "合作方"),
    "residents": lazy_pgettext("one", "居民"),
    "rewards": lazy_pgettext("one", "奖品"),
    "rulebook_versions": lazy_pgettext("one", "规则版本"),
    "vouchers": lazy_pgettext("one", "券"),
}

#: An ISO 8601 time as ``audit._plain`` writes it (``2026-12-06T21:01:54.029654+00:00``); shown in Beijing time.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")

#: The field an event's bare ``before``/``after`` values belong to (when they are not objects of fields).
SUBJECTS = {"merchant.checkin_scenarios": "checkin_scenarios"}

NOTHING = "—"


@dataclass(frozen=True)
class DetailRow:
    field: str
    before: str | None  # None: a recorded value, not a change
    after: str

    @property
    def changed(self) -> bool:
        return self.before is not None


def action_name(action: str) -> str:
    return str(ACTION_NAMES.get(action, action))


def actor_type_name(actor_type: str) -> str:
    return str(ACTOR_TYPES.get(actor_type, actor_type))


def target_kind(target_type: str | None) -> str:
    """What kind of object an event was done to (``规则版本``); a table not listed shows as it is called."""
    return str(TARGET_NAMES.get(target_type, target_type)) if target_type else ""


def target_name(target_type: str | None, target_id: str | None) -> str:
    """``规则版本 7`` for an event on rulebook version 7."""
    return " ".join(part for part in (target_kind(target_type), target_id or "") if part)


def field_name(key: str) -> str:
    return str(FIELD_NAMES.get(key, key))


def show(value: Any, key: str = "") -> str:
    """One value as text: lists joined with 、, objects as 字段：值, yes/no for flags, — for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return str(_l("是") if value else _l("否"))
    if key == "role" and value in {r.value for r in AdminRole}:
        return str(ROLE_NAMES[AdminRole(value)])
    if key == "view" and value in BANK_VIEWS:
        return str(BANK_VIEWS[value])
    if isinstance(value, list):
        return str(_l("、")).join(show(item) for item in value)  # the separators are the language's too
    if isinstance(value, str) and ISO_TIME.fullmatch(value):
        return when(value)
    if isinstance(value, dict):
        return str(_l("；")).join(str(_l("%(field)s：%(value)s", field=field_name(k), value=show(v, k)))
                                 for k, v in value.items())
    return str(value)


def when(iso: str) -> str:
    """A recorded time in the city's calendar (Asia/Shanghai); a time written without a zone is UTC, as stored."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC), "yyyy-MM-dd HH:mm:ss")


def detail_rows(action: str, details: dict[str, Any] | None) -> list[DetailRow]:
    """The event's details as rows: the changes first (field, before, after), then the other recorded values."""
    details = dict(details or {})
    rows: list[DetailRow] = []
    if "before" in details or "after" in details:
        before, after = details.pop("before", None), details.pop("after", None)
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = before or {}, after or {}
            keys = list(dict.fromkeys([*before, *after]))
            changed = [k for k in keys if before.get(k) != after.get(k)] or keys
            rows += [DetailRow(field_name(k), show(before.get(k), k), show(after.get(k), k)) for k in changed]
        else:
            key = SUBJECTS.get(action, "")
            rows.append(DetailRow(field_name(key) if key else str(_l("值")), show(before, key), show(after, key)))
    rows += [DetailRow(field_name(k), None, show(v, k)) for k, v in details.items()]
    return rows
