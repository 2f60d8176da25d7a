"""partner corrections and cancellations: event chains with a sequence

Existing events become chains of their own (root = themselves, sequence 0, kind credit), and the
event status constraint learns the two new outcomes, cancelled and superseded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATUSES = ("credited", "review", "quarantined", "duplicate", "unmatched", "rejected")
NEW_STATUSES = OLD_STATUSES + ("cancelled", "superseded")


def _status_check(statuses):
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade():
    with op.batch_alter_table('partner_events', schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('credit', 'correction', 'cancellation', name='event_kind',
                                                      native_enum=False, create_constraint=True, length=16),
                                      nullable=False, server_default='credit'))
        batch_op.add_column(sa.Column('root_event_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint(op.f('ck_partner_events_event_status'), type_='check')
        batch_op.create_check_constraint('event_status', _status_check(NEW_STATUSES))
    op.execute("UPDATE partner_events SET root_event_id = event_id WHERE root_event_id IS NULL")
    with op.batch_alter_table('partner_events', schema=None) as batch_op:
        batch_op.alter_column('root_event_id', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('kind', server_default=None, existing_type=sa.String(length=16))
        batch_op.alter_column('sequence', server_default=None, existing_type=sa.Integer())
        batch_op.create_index('ix_partner_events_chain', ['partner_id', 'root_event_id'], unique=False)


def downgrade():
    op.execute("DELETE FROM partner_events WHERE status IN ('cancelled', 'superseded')")
    with op.batch_alter_table('partner_events', schema=None, recreate="always") as batch_op:
        batch_op.drop_index('ix_partner_events_chain')
        batch_op.drop_constraint(op.f('ck_partner_events_event_status'), type_='check')
        batch_op.create_check_constraint('event_status', _status_check(OLD_STATUSES))
        batch_op.drop_constraint(op.f('ck_partner_events_event_kind'), type_='check')
        batch_op.drop_column('sequence')
        batch_op.drop_column('root_event_id')
        batch_op.drop_column('kind')
