"""banks by consent: financial institutions, their staff's bank role, and enterprises' grants

A financial institution's staff log in to the console with the role ``bank``, tied to their institution (a CHECK
keeps bank staff and only bank staff tied to one). An enterprise grants an institution access to its statements
and grade until a Beijing day, and can revoke it (issue #18 item 7; ``services.bank_access``). The role column
is a VARCHAR with a named CHECK constraint (``models.base.str_enum``), replaced here; its length stays (the
longest role is still ``merchant_manager``). On SQLite the table is recreated (batch mode); it has no triggers.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 14:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

OLD_ROLES = ('super_admin', 'operator', 'reviewer', 'merchant_manager', 'auditor')
NEW_ROLES = OLD_ROLES + ('bank',)


def _roles(roles):
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade():
    op.create_table(
        'financial_institutions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('uscc', sa.String(length=18), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_financial_institutions')),
        sa.UniqueConstraint('uscc', name=op.f('uq_financial_institutions_uscc')),
    )
    op.create_table(
        'bank_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_bank_grants_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['institution_id'], ['financial_institutions.id'],
                                name=op.f('fk_bank_grants_institution_id_financial_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_grants')),
    )
    op.create_index(op.f('ix_bank_grants_enterprise_id'), 'bank_grants', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_bank_grants_institution_id'), 'bank_grants', ['institution_id'], unique=False)
    op.create_index('uq_bank_grants_unrevoked', 'bank_grants', ['enterprise_id', 'institution_id'], unique=True,
                    sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
    with op.batch_alter_table('administrators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_administrators_institution_id_financial_institutions'),
                                    'financial_institutions', ['institution_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_administrators_admin_role'), type_='check')
        batch_op.create_check_constraint('admin_role', _roles(NEW_ROLES))
        batch_op.create_check_constraint('bank_staff_have_institution',
                                         "(role = 'bank') = (institution_id IS NOT NULL)")


def downgrade():
    if op.get_bind().execute(sa.text("SELECT count(*) FROM administrators WHERE role = 'bank'")).scalar():
        # Their logins and views are in the audit log: administrators are not deleted to fit an older schema.
        raise RuntimeError("bank staff exist, so 0024 cannot be undone")
    with op.batch_alter_table('administrators', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_administrators_bank_staff_have_institution'), type_='check')
        batch_op.drop_constraint(op.f('ck_administrators_admin_role'), type_='check')
        batch_op.create_check_constraint('admin_role', _roles(OLD_ROLES))
        batch_op.drop_constraint(op.f('fk_administrators_institution_id_financial_institutions'),
                                 type_='foreignkey')
        batch_op.drop_column('institution_id')
    op.drop_index('uq_bank_grants_unrevoked', table_name='bank_grants')
    op.drop_index(op.f('ix_bank_grants_institution_id'), table_name='bank_grants')
    op.drop_index(op.f('ix_bank_grants_enterprise_id'), table_name='bank_grants')
    op.drop_table('bank_grants')
    op.drop_table('financial_institutions')
