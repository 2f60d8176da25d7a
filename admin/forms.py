"""Console forms (Flask-WTF: every one carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

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
