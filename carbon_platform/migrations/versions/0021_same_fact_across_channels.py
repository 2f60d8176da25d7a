"""one fact, one credit across channels: the record that replaced an app report

When a partner's record (or a merchant check-in) tells of a fact an app report already credited, the report is
reversed and the record credited (``services.same_fact``; issue #17 item 9). ``actions.superseded_by_id`` points
the reversed report at the record that stands, so the resident, the reviewer and an auditor can follow one to the
other. Unique: a record replaces at most one report.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by_id', BIGINT, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_actions_superseded_by_id_actions'), 'actions',
                                    ['superseded_by_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_actions_superseded_by_id'), ['superseded_by_id'])


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_actions_superseded_by_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_actions_superseded_by_id_actions'), type_='foreignkey')
        batch_op.drop_column('superseded_by_id')
