"""merchant check-ins: the scenes a merchant offers, and each resident's check-in at its counter

The rulebook's ``merchant_checkin`` scenarios (clean plate, own bag…) are credited when a resident scans the
code a merchant shows for the scene (``services.checkins``). A merchant lists the scenes it offers
(``merchants.checkin_scenarios``, a JSON list of scenario ids, empty by default), and each check-in is a row of
``merchant_checkins``, unique per merchant, account, scene and Beijing day: the row a racing second check-in
cannot also claim, and what a merchant lists as its scene check-ins.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_scenarios', sa.JSON(), server_default='[]', nullable=False))
    op.create_table(
        'merchant_checkins',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('scenario', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action_id', BIGINT, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['carbon_accounts.id'],
                                name=op.f('fk_merchant_checkins_account_id_carbon_accounts')),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_merchant_checkins_action_id_actions')),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_merchant_checkins_merchant_id_merchants')),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
                                name=op.f('fk_merchant_checkins_resident_id_residents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_checkins')),
        sa.UniqueConstraint('action_id', name=op.f('uq_merchant_checkins_action_id')),
        sa.UniqueConstraint('merchant_id', 'account_id', 'scenario', 'day',
                            name=op.f('uq_merchant_checkins_merchant_id_account_id_scenario_day')),
    )
    op.create_index('ix_merchant_checkins_merchant_day', 'merchant_checkins', ['merchant_id', 'day'], unique=False)


def downgrade():
    # Check-ins point at credited actions; the actions (and their ledger entries) stay, only the record of
    # which counter they came from goes.
    op.drop_index('ix_merchant_checkins_merchant_day', table_name='merchant_checkins')
    op.drop_table('merchant_checkins')
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('checkin_scenarios')
