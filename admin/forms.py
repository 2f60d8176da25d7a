"""Console forms (Flask-WTF: every one carries a CSRF token).

Every form is a ``ConsoleForm``: no text field may carry a NUL byte, and every number is bounded by what
its column (or the ledger) can hold, so bad input re-renders the form with a message instead of a 500.
"""

import secrets
from decimal import Decimal

from flask import session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from carbon_platform.models import AdminRole, PartnerKind
from carbon_platform.models.base import MAX_INT32
from carbon_platform.services.admins import MIN_PASSWORD_LENGTH
from carbon_platform.services.journal import MAX_AMOUNT
from carbon_platform.services.rewards import MAX_VOUCHER_DAYS

NUL_MESSAGE = _l("不能包含空字符")


class ConsoleForm(FlaskForm):
    """A console form that also refuses NUL bytes in any text (PostgreSQL text cannot hold one)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, NUL_MESSAGE]
                valid = False
        return valid


def within(minimum: int | Decimal, maximum: int | Decimal) -> NumberRange:
    """NumberRange with the console's own (translated) message."""
    return NumberRange(min=minimum, max=maximum, message=_l("须在 %(min)s 到 %(max)s 之间"))


def finite(_form, field) -> None:
    """Refuse NaN, sNaN and Infinity, which DecimalField accepts and arithmetic then fails on."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("请输入一个数字"))


def plausible_time(_form, field) -> None:
    """A Beijing time in 2000-2100: year 1 or 9999 would overflow when converted to UTC (a 500)."""
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise StopValidation(_l("请填写 2000 到 2100 年之间的时间"))


class Checkboxes(SelectMultipleField):
    """A group of checkboxes whose choices the view fills (scenarios, districts…, ``admin.choices``). What comes
    back must be one of them: a name typed where a code belongs is refused, never saved. An empty value (a form
    that sends the field with nothing ticked) is no choice at all."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, label=None, validators=None, **options):
        options.setdefault("invalid_choice_message", _l("“%(value)s”不在可选项中，请从列表中勾选"))
        super().__init__(label, validators, choices=[], **options)

    def process_formdata(self, valuelist):
        super().process_formdata([value for value in valuelist if value])


ROLE_NAMES = {
    AdminRole.SUPER_ADMIN: _l("超级管理员"),
    AdminRole.OPERATOR: _l("运营"),
    AdminRole.REVIEWER: _l("审核"),
    AdminRole.MERCHANT_MANAGER: _l("商户经理"),
    AdminRole.AUDITOR: _l("审计（只读）"),
    AdminRole.BANK: _l("银行（金融机构员工）"),
}


PARTNER_KIND_NAMES = {
    PartnerKind.TRANSIT: _l("公交"),
    PartnerKind.BIKE_SHARE: _l("共享单车"),
    PartnerKind.VEHICLE: _l("新能源汽车平台"),
    PartnerKind.CHARGING: _l("充电平台"),
    PartnerKind.WASTE: _l("垃圾分类"),
    PartnerKind.RECYCLING: _l("再生资源回收"),
    PartnerKind.PV: _l("光伏"),
    PartnerKind.UTILITY: _l("电网"),
    PartnerKind.FORESTRY: _l("植树与碳汇林"),
    PartnerKind.OTHER: _l("其他"),
}


class LoginForm(ConsoleForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])


class AdminCreateForm(ConsoleForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("显示名称"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("角色"), choices=[SelectChoice(r.value, ROLE_NAMES[r]) for r in AdminRole])
    # filled from the financial institutions (admin.choices); bank staff need one, nobody else may have one
    institution = SelectField(_l("所属金融机构（仅银行角色）"), choices=[], validate_choice=False)
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])

    def validate_institution(self, field) -> None:
        # Left out (a client that sends no such field) is none; anything else must be one of the list.
        if field.data and field.data not in {key for key, _name in field.choices}:
            raise StopValidation(_l("请从列表中选择金融机构"))


class EnterpriseClassForm(ConsoleForm):
    # filled from seeds/industries.yaml (admin.choices): a division not in the list cannot be saved
    industry_code = SelectField(_l("行业（GB/T 4754-2017 大类）"), choices=[])
    key_energy_user = BooleanField(_l("重点用能单位"))


class InstitutionForm(ConsoleForm):
    name = StringField(_l("机构名称"), validators=[DataRequired(), Length(max=128)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(min=18, max=18)])


class PasswordChangeForm(ConsoleForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("新密码（至少 10 个字符）"),  # MIN_PASSWORD_LENGTH, in a translated label
                                 validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField(_l("再次输入新密码"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致"))])


class ReviewDecisionForm(ConsoleForm):
    note = StringField(_l("说明（驳回或补充材料时必填，居民可见）"), validators=[Length(max=500)])


#: How many one-time form tokens a session remembers as used (a reload re-posts one of the last few).
SPENT_KEPT = 20


def spent(token: str) -> bool:
    """Whether ``token`` (a form's one-time ``once`` field) was used in this session already."""
    return token in session.get("spent_forms", [])


def spend(token: str) -> None:
    """Remember ``token`` as used, with the effect it guards (the browser keeps it with the session)."""
    session["spent_forms"] = [*session.get("spent_forms", []), token][-SPENT_KEPT:]


class PartnerCreateForm(ConsoleForm):
    # A one-time token: the reloaded secret page re-posts it, and it is refused (no second partner).
    once = HiddenField(validators=[DataRequired(), Length(max=64)], default=lambda: secrets.token_urlsafe(16))
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=128)])
    kind = SelectField(_l("类型"), choices=[SelectChoice(k.value, name) for k, name in PARTNER_KIND_NAMES.items()])


class PartnerRotateForm(ConsoleForm):
    # The newest secret the page showed: a reloaded secret page re-posts it, and finds it outdated.
    after = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,18}$")])


class PartnerSettingsForm(ConsoleForm):
    allowed_scenarios = Checkboxes(_l("允许上报的场景（都不勾选为该类型的全部场景）"))
    rate_limit = StringField(_l("请求速率"), validators=[DataRequired(), Length(max=64)])
    active = BooleanField(_l("启用"))


class AdjustmentForm(ConsoleForm):
    target = StringField(_l("居民手机号或账户号"), validators=[DataRequired(), Length(max=20)])
    points = IntegerField(_l("积分（负数为扣减）"), validators=[DataRequired(), within(-MAX_AMOUNT, MAX_AMOUNT)])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=4, max=500)])


class ConfirmForm(ConsoleForm):
    """An empty form for POST-only buttons (log out): just the CSRF token."""


class MerchantForm(ConsoleForm):
    name = StringField(_l("商户名称"), validators=[DataRequired(), Length(max=128)])
    district = SelectField(_l("所在区县"), choices=[])  # filled from the districts table
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(min=18, max=18)])
    address = StringField(_l("地址"), validators=[Length(max=200)])


class CheckinScenesForm(ConsoleForm):
    """The low-carbon scenes a merchant offers: a checkbox per ``merchant_checkin`` scenario of the rulebook in
    force (the view fills ``choices``). Choices are not checked here: the service refuses an unknown scene with
    its own message, so a stale page says which scene went away."""

    scenarios = SelectMultipleField(_l("提供的低碳场景打卡"), choices=[], validate_choice=False,
                                    widget=widgets.ListWidget(prefix_label=False),
                                    option_widget=widgets.CheckboxInput())


class StaffForm(ConsoleForm):
    phone = StringField(_l("手机号"), validators=[DataRequired(), Length(max=20)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=40)])
    role = SelectField(_l("岗位"), choices=[SelectChoice("cashier", _l("收银员")), SelectChoice("manager", _l("店长"))])


FUNDERS = [SelectChoice("city", _l("市碳普惠基金")), SelectChoice("merchant", _l("商户自行承担")),
           SelectChoice("sponsor", _l("赞助方"))]
LIMIT_PERIODS = [SelectChoice("", _l("不限")), SelectChoice("day", _l("每天")), SelectChoice("week", _l("每周")),
                 SelectChoice("month", _l("每月")), SelectChoice("year", _l("每年")), SelectChoice("ever", _l("累计"))]


class RewardForm(ConsoleForm):
    name_zh = StringField(_l("名称（中文）"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("名称（英文）"), validators=[DataRequired(), Length(max=120)])
    description_zh = TextAreaField(_l("说明（中文）"), validators=[Length(max=2000)])
    description_en = TextAreaField(_l("说明（英文）"), validators=[Length(max=2000)])
    points_price = IntegerField(_l("所需积分"), validators=[DataRequired(), within(1, MAX_AMOUNT)])
    stock = IntegerField(_l("初始库存"), validators=[Optional(), within(0, MAX_AMOUNT)])
    limit_count = IntegerField(_l("每人限兑次数"), validators=[Optional(), within(1, MAX_INT32)])
    limit_period = SelectField(_l("限兑周期"), choices=LIMIT_PERIODS)
    districts = Checkboxes(_l("限定区县（都不勾选为全市）"))
    starts_at = DateTimeLocalField(_l("上架时间（北京时间）"), validators=[Optional(), plausible_time])
    ends_at = DateTimeLocalField(_l("下架时间（北京时间）"), validators=[Optional(), plausible_time])
    voucher_days = IntegerField(_l("券有效天数"), validators=[DataRequired(), within(1, MAX_VOUCHER_DAYS)])
    face_value_yuan = DecimalField(_l("面值（元，用于结算）"), places=2,
                                   validators=[Optional(), finite, within(0, Decimal(MAX_AMOUNT) / 100)])
    funder = SelectField(_l("出资方"), choices=FUNDERS)
    sponsor = StringField(_l("赞助方名称"), validators=[Length(max=80)])
    refund_on_expiry = BooleanField(_l("过期未用退还积分"), default=True)
    active = BooleanField(_l("上架"), default=True)


class StockForm(ConsoleForm):
    delta = IntegerField(_l("库存变化（负数为减少）"), validators=[DataRequired(), within(-MAX_AMOUNT, MAX_AMOUNT)])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=2, max=200)])


class PictureForm(ConsoleForm):
    picture = FileField(_l("图片（JPEG、PNG 或 WebP）"), validators=[FileRequired()])


class ReasonForm(ConsoleForm):
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(min=2, max=200)])


class RulebookForm(ConsoleForm):
    source = TextAreaField(_l("规则（YAML）"), validators=[DataRequired(), Length(max=400_000)])
    note = StringField(_l("修改说明"), validators=[Length(max=500)])
    # The published version the editor started from: approving is refused if another is published since.
    based_on = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}$")])


class SubmitForm(ConsoleForm):
    effective_from = DateTimeLocalField(_l("生效时间（北京时间，留空为批准后立即生效）"),
                                        validators=[Optional(), plausible_time])


class DecisionForm(ConsoleForm):
    note = StringField(_l("意见（驳回时必填）"), validators=[Length(max=500)])


class CampaignForm(ConsoleForm):
    id = StringField(_l("活动编号（小写字母、数字和下划线）"),
                     validators=[DataRequired(), Regexp(r"^[a-z][a-z0-9_]{2,63}$")])
    name_zh = StringField(_l("名称（中文）"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("名称（英文）"), validators=[DataRequired(), Length(max=120)])
    starts_at = DateTimeLocalField(_l("开始（北京时间）"), validators=[DataRequired(), plausible_time])
    ends_at = DateTimeLocalField(_l("结束（北京时间，不含）"), validators=[DataRequired(), plausible_time])
    scenarios = Checkboxes(_l("场景（都不勾选为全部）"))
    districts = Checkboxes(_l("区县（都不勾选为全市）"))
    account_types = Checkboxes(_l("账户类型（都不勾选为全部）"))
    multiplier = DecimalField(_l("积分倍数（如 2 为双倍）"), places=2,
                              validators=[Optional(), finite, within(1, 10)])
    fixed_bonus = IntegerField(_l("每次额外积分"), validators=[Optional(), within(1, MAX_AMOUNT)])
    first_time_bonus = IntegerField(_l("首次参与奖励积分"), validators=[Optional(), within(1, MAX_AMOUNT)])
    streak_actions = IntegerField(_l("连续挑战：次数"), validators=[Optional(), within(2, MAX_INT32)])
    streak_per = SelectField(_l("连续挑战：周期"), choices=[
        SelectChoice("", "—"), SelectChoice("day", _l("每天")), SelectChoice("week", _l("每周")),
        SelectChoice("month", _l("每月"))])
    streak_points = IntegerField(_l("连续挑战：奖励积分"), validators=[Optional(), within(1, MAX_AMOUNT)])
    budget_points = IntegerField(_l("总预算（积分）"), validators=[DataRequired(), within(1, MAX_AMOUNT)])
    per_participant_points = IntegerField(_l("每人上限（积分）"), validators=[Optional(), within(1, MAX_AMOUNT)])


#: A version name as the rulebook's schema allows it (at most 32 characters).
VERSION_NAME = [DataRequired(), Length(max=32), Regexp(r"^[0-9A-Za-z][0-9A-Za-z._+-]*$",
                                                       message=_l("版本号只能包含字母、数字和 . _ + -"))]


def parsed(_form, field) -> None:
    """Stop at the field's own parse error ("not a valid decimal"): a range check of nothing says nothing more."""
    if field.data is None:
        raise StopValidation()


class FactorChangeForm(ConsoleForm):
    """A factor's new value from a date: the draft's YAML gains that version, the current one ends then."""

    factor = SelectField(_l("排放因子"), validators=[DataRequired()])
    value = DecimalField(_l("新数值"), validators=[InputRequired(message=_l("请输入一个数字")), parsed, finite,
                                                   within(Decimal("-1000000000"), Decimal("1000000000"))])
    source = StringField(_l("来源（文件名称、发布机构、数值原文）"), validators=[DataRequired(), Length(max=1000)])
    year = IntegerField(_l("数据年份"), validators=[InputRequired(message=_l("请输入一个数字")), parsed,
                                                         within(1990, 2100)])
    published = DateField(_l("发布日期"), validators=[Optional()])
    valid_from = DateField(_l("生效日期（含）"), validators=[DataRequired(message=_l("请填写日期"))])
    version = StringField(_l("新版本号"), validators=VERSION_NAME)
    note = StringField(_l("修改说明"), validators=[Length(max=500)])
    based_on = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}$")])

    def validate_valid_from(self, field) -> None:
        if field.data and not 2000 <= field.data.year <= 2100:
            raise StopValidation(_l("请填写 2000 到 2100 年之间的时间"))
        if field.data and self.published.data and field.data < self.published.data:
            raise StopValidation(_l("生效日期不能早于发布日期：因子从发布之日起才适用"))


EVIDENCE_CHOICES = [SelectChoice("none", _l("不需上传照片")), SelectChoice("photo", _l("需上传一张照片")),
                    SelectChoice("photo_and_certificate", _l("需上传现场照片和证明材料照片各一张"))]
REVIEW_CHOICES = [SelectChoice("beyond_bounds", _l("超出上限时转人工审核")),
                  SelectChoice("always", _l("每次都经人工审核后计入"))]


class TrustChangeForm(ConsoleForm):
    """One channel of a scenario: what a report needs before it is credited (photos, bounds on the report alone,
    review). ``for_inputs`` adds a bound field for each of the scenario's inputs; nothing asked means as reported."""

    rule = HiddenField(validators=[DataRequired(), Length(max=200)])
    evidence = SelectField(_l("照片"), choices=EVIDENCE_CHOICES, default="none")
    review = SelectField(_l("人工审核"), choices=REVIEW_CHOICES, default="beyond_bounds",
                         description=_l("上限在下面设置，未设上限的直接计入。都不要求（不需照片、不设上限、不逐条审核）即按上报的数据计入。"))
    count_per_day = IntegerField(_l("每天凭申报至多计入几次（留空：不限）"),
                                 validators=[Optional(), within(1, 1000)])
    version = StringField(_l("新版本号"), validators=VERSION_NAME)
    note = StringField(_l("修改说明"), validators=[Length(max=500)])
    based_on = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}$")])

    #: Set by ``for_inputs``: (input name, field name) in the scenario's order, each input's own maximum, and
    #: whether the channel is the app (only app reports carry photos).
    bound_fields: tuple[tuple[str, str], ...] = ()
    input_maxima: dict[str, Decimal | None] = {}
    app_channel = True

    @classmethod
    def for_inputs(cls, inputs: list[tuple[str, str, str, Decimal | None]], *, app_channel: bool):
        """A form class for a scenario with these ``inputs`` (name, label, unit, the input's own maximum)."""
        fields = {f"bound_{name}": DecimalField(
            _l("%(input)s：每条申报至多（%(unit)s，留空：不限）", input=label, unit=unit), places=None,
            validators=[Optional(), finite, within(Decimal("0.001"), Decimal("1000000000"))])
            for name, label, unit, _maximum in inputs}
        return type(cls.__name__, (cls,), {
            **fields, "app_channel": app_channel,
            "bound_fields": tuple((name, f"bound_{name}") for name, *_rest in inputs),
            "input_maxima": {f"bound_{name}": maximum for name, _label, _unit, maximum in inputs}})

    def shown(self) -> list:
        """The fields the page shows, in order (photos only for the app: partners and check-ins send data; a
        posted photo requirement for another channel is shown with its refusal)."""
        return [*([self.evidence] if self.app_channel or self.evidence.errors else []), self.review, self.count_per_day,
                *(self[field] for _name, field in self.bound_fields), self.version, self.note]

    def bounds(self) -> dict[str, Decimal]:
        return {name: self[field].data for name, field in self.bound_fields if self[field].data is not None}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for _name, field in self.bound_fields:
            maximum, data = self.input_maxima.get(field), self[field].data
            if maximum is not None and data is not None and data >= maximum and not self[field].errors:
                self[field].errors = [*self[field].errors, _l("须小于该项本身的上限 %(max)s（否则这个限制没有作用）",
                                                              max=format(maximum.normalize(), "f"))]
                valid = False
        if not self.app_channel and self.evidence.data != "none":
            self.evidence.errors = [*self.evidence.errors, _l("只有应用内自报可以附照片；合作方和商户打卡传送的是数据")]
            valid = False
        if self.review.data == "always" and (self.count_per_day.data is not None or self.bounds()):
            self.review.errors = [*self.review.errors,
                                  _l("每次都人工审核时，上限没有作用：请清空上限，或改为超出上限时审核")]
            valid = False
        return valid

    def rule_value(self):
        """The rule as the rulebook writes it: ``as_reported`` when nothing is asked."""
        rule = {}
        if self.evidence.data != "none":
            rule["evidence"] = self.evidence.data
        if self.review.data == "always":
            rule["review"] = "always"
        below = {}
        if self.count_per_day.data is not None:
            below["count_per_day"] = self.count_per_day.data
        below.update(self.bounds())
        if below:
            rule["below"] = below
        return rule or "as_reported"


class CapChangeForm(ConsoleForm):
    """A scenario's cap with a new limit (same period, unit and scope): the draft's YAML changes that number only."""

    cap = SelectField(_l("上限"), validators=[DataRequired()])
    limit = IntegerField(_l("新上限"), validators=[InputRequired(message=_l("请输入一个数字")), parsed,
                                                      within(1, MAX_INT32)])
    version = StringField(_l("新版本号"), validators=VERSION_NAME)
    note = StringField(_l("修改说明"), validators=[Length(max=500)])
    based_on = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}$")])
