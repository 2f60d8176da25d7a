"""enterprise carbon-account statements, signed and never updated

A statement keeps the document exactly as the platform signed it (Ed25519 over its canonical JSON), its digest,
the signing key's id and what it was made from (report versions, output declaration), so the check page can say
whether it is genuine and whether a later statement or a correction superseded it (``services.statements``;
issue #18 item 6).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'enterprise_statements',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('serial', sa.String(length=24), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('period_from', sa.String(length=7), nullable=False),
        sa.Column('period_to', sa.String(length=7), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('signature', sa.String(length=88), nullable=False),
        sa.Column('sources', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_enterprise_statements_enterprise_id_enterprises')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_statements')),
        sa.UniqueConstraint('serial', name=op.f('uq_enterprise_statements_serial')),
    )
    op.create_index(op.f('ix_enterprise_statements_enterprise_id'), 'enterprise_statements', ['enterprise_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_enterprise_statements_enterprise_id'), table_name='enterprise_statements')
    op.drop_table('enterprise_statements')
