"""Entries withdrawn: one ``entry_withdrawal`` row per scan or outcome entered in error.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20

A scan or an outcome recorded by mistake (a wrong date, examination or result) is
withdrawn, never changed or deleted: a row here names it (exactly one of ``scan_id`` and
``outcome_id``, each at most once) with the reason in words, who and when, and every
reader of the scans and outcomes leaves it out. A correction is a withdrawal and a new
entry. Append-only like the audit log: triggers refuse UPDATE and DELETE, so a withdrawal
cannot be undone by hand either (record the entry again instead).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "entry_withdrawal"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("(scan_id IS NULL) <> (outcome_id IS NULL)",
                           name=op.f("ck_entry_withdrawal_one_entry")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_entry_withdrawal_reason_given")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_entry_withdrawal_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["imaging_event.id"],
            name=op.f("fk_entry_withdrawal_scan_id_imaging_event"),
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcome_event.id"],
            name=op.f("fk_entry_withdrawal_outcome_id_outcome_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_withdrawal")),
        sa.UniqueConstraint("scan_id", name=op.f("uq_entry_withdrawal_scan_id")),
        sa.UniqueConstraint("outcome_id", name=op.f("uq_entry_withdrawal_outcome_id")),
    )
    op.create_index(op.f("ix_entry_withdrawal_patient_id"), TABLE, ["patient_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # pecoma_append_only() is created by revision 0001
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION pecoma_append_only()"
        )
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'table {TABLE} is append-only'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    elif dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
    op.drop_index(op.f("ix_entry_withdrawal_patient_id"), table_name=TABLE)
    op.drop_table(TABLE)
