"""Imports remembered: one ``imported_file`` row per committed import of a file.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13

A row of an import whose case equals an earlier version of the patient's case, one a
later version replaced, keeps the later version only when the same file (the SHA-256 of
its bytes) was imported before: re-importing a file never undoes a correction made since,
while a newer file that changes a value back (A, then B, then A again) is stored as any
other change. Append-only like the audit log: triggers refuse UPDATE and DELETE. A
registry upgraded from 0012 holds no row: each file is new to it once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "imported_file"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_file")),
    )
    op.create_index(op.f("ix_imported_file_digest"), TABLE, ["digest"])
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
    op.drop_index(op.f("ix_imported_file_digest"), table_name=TABLE)
    op.drop_table(TABLE)
