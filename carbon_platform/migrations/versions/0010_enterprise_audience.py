"""enterprise login: tokens and login codes learn a third audience, enterprise

An enterprise's registered contact logs in by SMS code and sees the enterprise's carbon account;
contact phones are indexed for that login.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 06:50:00

"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD = ("resident", "merchant_staff")
NEW = OLD + ("enterprise",)
TABLES = (("auth_tokens", "token_audience"), ("login_codes", "login_audience"))


def _check(audiences):
    return "audience IN (" + ", ".join(f"'{a}'" for a in audiences) + ")"


def _replace(audiences):
    for table, name in TABLES:
        with op.batch_alter_table(table, schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
            batch_op.create_check_constraint(name, _check(audiences))


def upgrade():
    _replace(NEW)
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_contact_phone'), ['contact_phone'], unique=False)


def downgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_contact_phone'))
    for table, _ in TABLES:
        op.execute(f"DELETE FROM {table} WHERE audience = 'enterprise'")
    _replace(OLD)
