"""enterprise carbon accounts: industry, key energy user, sites, versioned energy reports and output values

An enterprise gains its GB/T 4754-2017 division (``industry_code``; NULL for accounts registered before energy
reporting, which must give one before they report) and whether it is a 重点用能单位. Its sites report their energy
per month or year; each report's figures live in versions that are never updated, so a correction adds one
(``services.energy_reports``; issue #18 items 1–3).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('industry_code', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('key_energy_user', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'enterprise_sites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_enterprise_sites_enterprise_id_enterprises')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_sites')),
        sa.UniqueConstraint('enterprise_id', 'name', name=op.f('uq_enterprise_sites_enterprise_id_name')),
    )
    op.create_index(op.f('ix_enterprise_sites_enterprise_id'), 'enterprise_sites', ['enterprise_id'], unique=False)
    op.create_table(
        'energy_reports',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=True),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('month IS NULL OR (month BETWEEN 1 AND 12)', name=op.f('ck_energy_reports_month_of_year')),
        sa.ForeignKeyConstraint(['site_id'], ['enterprise_sites.id'],
                                name=op.f('fk_energy_reports_site_id_enterprise_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_reports')),
        sa.UniqueConstraint('site_id', 'period', name=op.f('uq_energy_reports_site_id_period')),
    )
    op.create_index(op.f('ix_energy_reports_site_id'), 'energy_reports', ['site_id'], unique=False)
    op.create_table(
        'energy_report_versions',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('report_id', BIGINT, nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('inputs', sa.JSON(), nullable=False),
        sa.Column('registry_version', sa.String(length=32), nullable=False),
        sa.Column('computed_on', sa.Date(), nullable=False),
        sa.Column('scope1_kg', BIGINT, nullable=False),
        sa.Column('scope2_kg', BIGINT, nullable=False),
        sa.Column('total_kg', BIGINT, nullable=False),
        sa.Column('receipt', sa.JSON(), nullable=False),
        sa.CheckConstraint('number >= 1', name=op.f('ck_energy_report_versions_number_positive')),
        sa.CheckConstraint('total_kg = scope1_kg + scope2_kg', name=op.f('ck_energy_report_versions_total_is_sum')),
        sa.CheckConstraint('scope1_kg >= 0 AND scope2_kg >= 0',
                           name=op.f('ck_energy_report_versions_kg_not_negative')),
        sa.ForeignKeyConstraint(['report_id'], ['energy_reports.id'],
                                name=op.f('fk_energy_report_versions_report_id_energy_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_report_versions')),
        sa.UniqueConstraint('report_id', 'number', name=op.f('uq_energy_report_versions_report_id_number')),
    )
    op.create_index(op.f('ix_energy_report_versions_report_id'), 'energy_report_versions', ['report_id'],
                    unique=False)
    op.create_table(
        'enterprise_outputs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('output_yuan', BIGINT, nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.CheckConstraint('output_yuan > 0', name=op.f('ck_enterprise_outputs_output_positive')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_enterprise_outputs_enterprise_id_enterprises')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_outputs')),
        sa.UniqueConstraint('enterprise_id', 'year', 'number',
                            name=op.f('uq_enterprise_outputs_enterprise_id_year_number')),
    )
    op.create_index(op.f('ix_enterprise_outputs_enterprise_id'), 'enterprise_outputs', ['enterprise_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_enterprise_outputs_enterprise_id'), table_name='enterprise_outputs')
    op.drop_table('enterprise_outputs')
    op.drop_index(op.f('ix_energy_report_versions_report_id'), table_name='energy_report_versions')
    op.drop_table('energy_report_versions')
    op.drop_index(op.f('ix_energy_reports_site_id'), table_name='energy_reports')
    op.drop_table('energy_reports')
    op.drop_index(op.f('ix_enterprise_sites_enterprise_id'), table_name='enterprise_sites')
    op.drop_table('enterprise_sites')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('key_energy_user')
        batch_op.drop_column('industry_code')
