"""Outcomes: one ``outcome_event`` row per thing that happened to a patient.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02

Last contact with vital status, local recurrence, distant metastasis, progression on
systemic therapy and death, each with its date (and how it was found, and the scan that
found it). Append-only like the case versions and the audit log: triggers refuse UPDATE
and DELETE, so a correction is a new row and the history stays readable.

The ``assessment`` table gains ``folpe_category`` and ``icdo3_morphology``, copied from
each output's classifications (when determined) so that survival and exports read two
short columns instead of every stored output; existing rows are filled from their output.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "outcome_event"


_CLASSES = (("folpe_category", "CLS-FOLPE-2005", 40), ("icdo3_morphology", "CLS-ICDO3", 16))


def _fill_classes(dialect: str) -> None:
    """Copy the determined categories from each stored output (any position in the list)."""
    for column, cls_id, _n in _CLASSES:
        if dialect == "postgresql":
            op.execute(
                f"UPDATE assessment SET {column} = ("  # noqa: S608 (module constants)
                "SELECT c->>'category' FROM json_array_elements(output->'classifications') c "
                f"WHERE c->>'id' = '{cls_id}' AND (c->>'determined')::boolean LIMIT 1)"
            )
        elif dialect == "sqlite":
            op.execute(
                f"UPDATE assessment SET {column} = ("  # noqa: S608 (module constants)
                "SELECT json_extract(c.value, '$.category') "
                "FROM json_each(json_extract(output, '$.classifications')) c "
                f"WHERE json_extract(c.value, '$.id') = '{cls_id}' "
                "AND json_extract(c.value, '$.determined') LIMIT 1)"
            )


def upgrade() -> None:
    for column, _cls, n in _CLASSES:
        op.add_column("assessment", sa.Column(column, sa.String(length=n), nullable=True))
    _fill_classes(op.get_bind().dialect.name)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("vital_status", sa.String(length=24), nullable=True),
        sa.Column("found_by", sa.String(length=16), nullable=True),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_outcome_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["imaging_event.id"],
            name=op.f("fk_outcome_event_scan_id_imaging_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_event")),
    )
    op.create_index(op.f("ix_outcome_event_patient_id"), TABLE, ["patient_id"])
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
    op.drop_index(op.f("ix_outcome_event_patient_id"), table_name=TABLE)
    op.drop_table(TABLE)
    with op.batch_alter_table("assessment") as batch:
        for column, _cls, _n in _CLASSES:
            batch.drop_column(column)
