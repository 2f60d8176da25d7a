"""administrators' session generation: logout, password change and deactivation end console sessions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('administrators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('administrators', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
