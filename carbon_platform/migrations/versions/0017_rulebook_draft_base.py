"""rulebook drafts remember the published version they were made from

Approving a draft whose base is no longer the latest published version is refused (it would undo what
was published since). Drafts saved before this column existed keep NULL: their base is unknown, so the
service treats them as stale and asks for a new draft rather than guessing.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 21:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rulebook_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('based_on_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rulebook_versions_based_on_id_rulebook_versions'),
                                    'rulebook_versions', ['based_on_id'], ['id'])


def downgrade():
    with op.batch_alter_table('rulebook_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rulebook_versions_based_on_id_rulebook_versions'),
                                 type_='foreignkey')
        batch_op.drop_column('based_on_id')
