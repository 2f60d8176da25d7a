"""partner kinds for every scenario: bike-share, vehicle, recycling and forestry partners, and their bindings

The rulebook takes cycling from ``partner:bike_share``, NEV driving from ``partner:vehicle``, recyclables from
``partner:recycling`` and tree planting from ``partner:forestry``, but no partner could be registered as one of
those kinds, so those channels could never credit anything. The kinds are added, with the identifiers such
partners know a person by (a bike-share account, a recycling card, a forestry account; a vehicle is one
already). Both columns are VARCHARs with a named CHECK constraint (``models.base.str_enum``: the longest value
plus four), so each constraint is replaced and each column widened. On SQLite that recreates the table
(batch mode); neither table has triggers.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 13:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_PARTNER_KINDS = ('transit', 'waste', 'pv', 'charging', 'utility', 'other')
NEW_PARTNER_KINDS = OLD_PARTNER_KINDS + ('bike_share', 'vehicle', 'recycling', 'forestry')
OLD_BINDING_KINDS = ('transit_card', 'waste_card', 'electricity_meter', 'pv_inverter', 'charging_account', 'vehicle')
NEW_BINDING_KINDS = OLD_BINDING_KINDS + ('bike_share_account', 'recycling_card', 'forestry_account')


def _kinds(table, constraint, kinds, old_kinds):
    """The column ``kind`` of ``table`` takes ``kinds``: its CHECK constraint replaced, its length as str_enum's."""
    old_length, length = max(map(len, old_kinds)) + 4, max(map(len, kinds)) + 4
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{constraint}'), type_='check')
        if length != old_length:
            batch_op.alter_column('kind', existing_type=sa.String(length=old_length), type_=sa.String(length=length),
                                  existing_nullable=False)
        batch_op.create_check_constraint(constraint, "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade():
    _kinds('partners', 'partner_kind', NEW_PARTNER_KINDS, OLD_PARTNER_KINDS)
    _kinds('bindings', 'binding_kind', NEW_BINDING_KINDS, OLD_BINDING_KINDS)


def _refuse_if_used(table, new_kinds, what):
    listed = ", ".join(f"'{k}'" for k in new_kinds)
    if op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table} WHERE kind IN ({listed})")).scalar():
        # Partners and bindings are referenced by events, credits and audit entries: they are not deleted
        # to fit an older schema.
        raise RuntimeError(f"{what} of the kinds 0019 added exist, so 0019 cannot be undone")


def downgrade():
    _refuse_if_used('partners', set(NEW_PARTNER_KINDS) - set(OLD_PARTNER_KINDS), "partners")
    _refuse_if_used('bindings', set(NEW_BINDING_KINDS) - set(OLD_BINDING_KINDS), "bindings")
    _kinds('bindings', 'binding_kind', OLD_BINDING_KINDS, NEW_BINDING_KINDS)
    _kinds('partners', 'partner_kind', OLD_PARTNER_KINDS, NEW_PARTNER_KINDS)
