"""partner signature scope: a per-partner date until which the old signature form (no method, no path) is accepted

Partners registered before this migration keep the old form until 2027-04-01T00:00:00Z (docs/api.md);
partners registered after it never had it (NULL).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 21:15:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The same date as carbon_platform.services.partner_auth.LEGACY_SIGNATURE_DEADLINE (migrations never import app code).
DEADLINE = datetime(2027, 4, 1, tzinfo=timezone.utc)


def upgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_signature_until', sa.DateTime(timezone=True), nullable=True))
    # SQLite keeps naive UTC (as the models' UTCDateTime writes it); PostgreSQL a timestamptz.
    value = DEADLINE.replace(tzinfo=None) if op.get_bind().dialect.name == 'sqlite' else DEADLINE
    partners = sa.table('partners', sa.column('legacy_signature_until', sa.DateTime(timezone=True)))
    op.execute(partners.update().values(legacy_signature_until=value))


def downgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('legacy_signature_until')
