"""account deletion (PIPL erasure): closed accounts, deleted residents, and close journals

A resident who deletes their account keeps no personal data here, but the ledger keeps its anonymised figures:
the account is closed (``closed_at``), the resident row stays as a tombstone (``deleted_at``, a phone that is
no phone), and the points left leave through a journal of an eighth kind, ``close``. On SQLite changing a CHECK
constraint recreates the table, which drops its append-only triggers, so they are made again (as in 0011).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 23:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OLD_KINDS = ('earn', 'spend', 'release', 'expire', 'reverse', 'adjust', 'refund')
NEW_KINDS = OLD_KINDS + ('close',)


def _journal_kinds(kinds):
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS journals_no_{action}")
    with op.batch_alter_table('journals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_journals_journal_kind'), type_='check')
        batch_op.create_check_constraint('journal_kind', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")
    if sqlite:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER journals_no_{action.lower()} BEFORE {action} ON journals "
                       f"BEGIN SELECT RAISE(ABORT, 'journals is append-only: {action} refused'); END")


def upgrade():
    _journal_kinds(NEW_KINDS)
    with op.batch_alter_table('carbon_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Close journals cannot be deleted (append-only): a database that has any stays at 0018.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM journals WHERE kind = 'close'")).scalar():
        raise RuntimeError("close journals exist; the ledger is append-only, so 0018 cannot be undone")
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('carbon_accounts', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
    _journal_kinds(OLD_KINDS)
