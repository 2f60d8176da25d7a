"""proven bindings: one proven binding per identifier, any number pending; unmatched events keep its hash

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 21:20:00

A self-typed number no longer becomes active at once, so several people may hold a pending binding
for one identifier (nobody learns whether someone else holds it); only one can be proven. Unmatched
partner events keep the identifier's hash so they can be credited when its binding is proven.
Bindings that were active stay active: they were the only binding of their identifier.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.drop_index('uq_bindings_active_identifier', sqlite_where=sa.text("status <> 'revoked'"),
                            postgresql_where=sa.text("status <> 'revoked'"))
        batch_op.create_index('uq_bindings_proven_identifier', ['identifier_hash'], unique=True,
                              sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_bindings_account_identifier', ['account_id', 'identifier_hash'], unique=True,
                              sqlite_where=sa.text("status <> 'revoked'"),
                              postgresql_where=sa.text("status <> 'revoked'"))
    with op.batch_alter_table('partner_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identifier_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_partner_events_identifier_hash'), ['identifier_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('partner_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_events_identifier_hash'))
        batch_op.drop_column('identifier_hash')
    # Pending bindings may now share an identifier, which the old index forbids: they are withdrawn.
    op.execute("UPDATE bindings SET status = 'revoked', revoked_at = CURRENT_TIMESTAMP WHERE status = 'pending'")
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.drop_index('uq_bindings_account_identifier', sqlite_where=sa.text("status <> 'revoked'"),
                            postgresql_where=sa.text("status <> 'revoked'"))
        batch_op.drop_index('uq_bindings_proven_identifier', sqlite_where=sa.text("status = 'active'"),
                            postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_bindings_active_identifier', ['identifier_hash'], unique=True,
                              sqlite_where=sa.text("status <> 'revoked'"),
                              postgresql_where=sa.text("status <> 'revoked'"))
