"""Console forms (Flask-WTF: every one carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from carbon_platform.models import AdminRole, PartnerKind

ROLE_NAMES = {
    AdminRole.SUPER_ADMIN: _l("超级管理员"),
    AdminRole.OPERATOR: _l("运营"),
    AdminRole.REVIEWER: _l("审核"),
    AdminRole.MERCHANT_MANAGER: _l("商户经理"),
    AdminRole.AUDITOR: _l("审计（只读）"),
}


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])


class AdminCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("显示名称"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("角色"), choices=[SelectChoice(r.value, ROLE_NAMES[r]) for r in AdminRole])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(min=10, max=256)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("新密码（至少 10 个字符）"), validators=[DataRequired(), Length(min=10, max=256)])
    confirm = PasswordField(_l("再次输入新密码"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致"))])


class ReviewDecisionForm(FlaskForm):
    note = StringField(_l("说明（驳回或补充材料时必填，居民可见）"), validators=[Length(max=500)])


class PartnerCreateForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=128)])
    kind = SelectField(_l("类型"), choices=[SelectChoice(k.value, k.value) for k in PartnerKind])


class PartnerSettingsForm(FlaskForm):
    allowed_scenarios = StringField(_l("允许上报的场景（逗号分隔，留空为该类型的全部场景）"),
                                    validators=[Length(max=1000)])
    rate_limit = StringField(_l("请求速率"), validators=[DataRequired(), Length(max=64)])
    active = BooleanField(_l("启用"))


class AdjustmentForm(FlaskForm):
    target = StringField(_l("居民手机号或账户号"), validators=[DataRequired(), Length(max=20)])
    points = IntegerField(_l("积分（负数为扣减）"), validators=[DataRequired()])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=4, max=500)])


class ConfirmForm(FlaskForm):
    """An empty form for POST-only buttons (log out): just the CSRF token."""


class MerchantForm(FlaskForm):
    name = StringField(_l("商户名称"), validators=[DataRequired(), Length(max=128)])
    district = SelectField(_l("所在区县"), choices=[])  # filled from the districts table
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(min=18, max=18)])
    address = StringField(_l("地址"), validators=[Length(max=200)])


class StaffForm(FlaskForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(), Length(max=20)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=40)])
    role = SelectField(_l("岗位"), choices=[SelectChoice("cashier", _l("收银员")), SelectChoice("manager", _l("店长"))])


FUNDERS = [SelectChoice("city", _l("市碳普惠基金")), SelectChoice("merchant", _l("商户自行承担")),
           SelectChoice("sponsor", _l("赞助方"))]
LIMIT_PERIODS = [SelectChoice("", _l("不限")), SelectChoice("day", _l("每天")), SelectChoice("week", _l("每周")),
                 SelectChoice("month", _l("每月")), SelectChoice("year", _l("每年")), SelectChoice("ever", _l("累计"))]


class RewardForm(FlaskForm):
    name_zh = StringField(_l("名称（中文）"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("名称（英文）"), validators=[DataRequired(), Length(max=120)])
    description_zh = TextAreaField(_l("说明（中文）"), validators=[Length(max=2000)])
    description_en = TextAreaField(_l("说明（英文）"), validators=[Length(max=2000)])
    points_price = IntegerField(_l("所需积分"), validators=[DataRequired(), NumberRange(min=1)])
    stock = IntegerField(_l("初始库存"), validators=[Optional(), NumberRange(min=0)])
    limit_count = IntegerField(_l("每人限兑次数"), validators=[Optional(), NumberRange(min=1)])
    limit_period = SelectField(_l("限兑周期"), choices=LIMIT_PERIODS)
    districts = StringField(_l("限定区县代码（逗号分隔，留空为全市）"), validators=[Length(max=500)])
    starts_at = DateTimeLocalField(_l("上架时间（北京时间）"), validators=[Optional()])
    ends_at = DateTimeLocalField(_l("下架时间（北京时间）"), validators=[Optional()])
    voucher_days = IntegerField(_l("券有效天数"), validators=[DataRequired(), NumberRange(min=1, max=3650)])
    face_value_yuan = DecimalField(_l("面值（元，用于结算）"), places=2, validators=[Optional(), NumberRange(min=0)])
    funder = SelectField(_l("出资方"), choices=FUNDERS)
    sponsor = StringField(_l("赞助方名称"), validators=[Length(max=80)])
    refund_on_expiry = BooleanField(_l("过期未用退还积分"), default=True)
    active = BooleanField(_l("上架"), default=True)


class StockForm(FlaskForm):
    delta = IntegerField(_l("库存变化（负数为减少）"), validators=[DataRequired()])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=2, max=200)])


class PictureForm(FlaskForm):
    picture = FileField(_l("图片（JPEG、PNG 或 WebP）"), validators=[FileRequired()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=2, max=200)])


class RulebookForm(FlaskForm):
    source = TextAreaField(_l("规则（YAML）"), validators=[DataRequired(), Length(max=400_000)])
    note = StringField(_l("修改说明"), validators=[Length(max=500)])


class SubmitForm(FlaskForm):
    effective_from = DateTimeLocalField(_l("生效时间（北京时间，留空为批准后立即生效）"), validators=[Optional()])


class DecisionForm(FlaskForm):
    note = StringField(_l("意见（驳回时必填）"), validators=[Length(max=500)])


class CampaignForm(FlaskForm):
    id = StringField(_l("活动编号（小写字母、数字和下划线）"),
                     validators=[DataRequired(), Regexp(r"^[a-z][a-z0-9_]{2,63}$")])
    name_zh = StringField(_l("名称（中文）"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("名称（英文）"), validators=[DataRequired(), Length(max=120)])
    starts_at = DateTimeLocalField(_l("开始（北京时间）"), validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("结束（北京时间，不含）"), validators=[DataRequired()])
    scenarios = StringField(_l("场景（逗号分隔，留空为全部）"), validators=[Length(max=500)])
    districts = StringField(_l("区县代码（逗号分隔，留空为全市）"), validators=[Length(max=500)])
    account_types = StringField(_l("账户类型（resident、household、enterprise，逗号分隔，留空为全部）"),
                                validators=[Length(max=100)])
    multiplier = DecimalField(_l("积分倍数（如 2 为双倍）"), places=2,
                              validators=[Optional(), NumberRange(min=1, max=10)])
    fixed_bonus = IntegerField(_l("每次额外积分"), validators=[Optional(), NumberRange(min=1)])
    first_time_bonus = IntegerField(_l("首次参与奖励积分"), validators=[Optional(), NumberRange(min=1)])
    streak_actions = IntegerField(_l("连续挑战：次数"), validators=[Optional(), NumberRange(min=2)])
    streak_per = SelectField(_l("连续挑战：周期"), choices=[
        SelectChoice("", "—"), SelectChoice("day", _l("每天")), SelectChoice("week", _l("每周")),
        SelectChoice("month", _l("每月"))])
    streak_points = IntegerField(_l("连续挑战：奖励积分"), validators=[Optional(), NumberRange(min=1)])
    budget_points = IntegerField(_l("总预算（积分）"), validators=[DataRequired(), NumberRange(min=1)])
    per_participant_points = IntegerField(_l("每人上限（积分）"), validators=[Optional(), NumberRange(min=1)])
