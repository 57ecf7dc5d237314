"""Board decisions: one ``board_decision`` row per decision about a recommendation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

What the tumour board decided about each recommendation of a stored assessment
(accepted, declined or deferred, with a coded reason and free text, who and when), and
the clinicians' answers to CDS Hooks cards (source ``cds-hooks``), in one table.
Append-only like the audit log: triggers refuse UPDATE and DELETE, so a changed decision
is a new row that supersedes the earlier one. Check constraints hold the coded values,
the patient and assessment of a board decision, and the reason of a decline.

The CDS feedback already stored is copied in (one row per record id of its card), so
that every decision is in this table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "board_decision"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("card_uuid", sa.String(length=36), nullable=True),
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint(
            "decision IN ('accepted', 'declined', 'deferred')",
            name=op.f("ck_board_decision_decision"),
        ),
        sa.CheckConstraint(
            "source IN ('board', 'cds-hooks')", name=op.f("ck_board_decision_source")
        ),
        sa.CheckConstraint(
            "source <> 'board' OR (patient_id IS NOT NULL AND assessment_id IS NOT NULL)",
            name=op.f("ck_board_decision_board_names_patient"),
        ),
        sa.CheckConstraint(
            "source <> 'board' OR decision <> 'declined' OR reason_code IS NOT NULL",
            name=op.f("ck_board_decision_decline_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_board_decision_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_board_decision_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"],
            ["board_decision.id"],
            name=op.f("fk_board_decision_supersedes_board_decision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_decision")),
    )
    op.create_index(op.f("ix_board_decision_patient_id"), TABLE, ["patient_id"])
    op.create_index(
        op.f("ix_board_decision_assessment_id_record_id"),
        TABLE,
        ["assessment_id", "record_id"],
    )
    dialect = op.get_bind().dialect.name
    _copy_feedback(dialect)
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


def _copy_feedback(dialect: str) -> None:
    """Each stored CDS feedback, once per record id of its card."""
    columns = (
        "source, card_uuid, record_id, decision, reason_code, reason_text, decided_at, decided_by"
    )
    decision = "CASE f.outcome WHEN 'accepted' THEN 'accepted' ELSE 'declined' END"
    if dialect == "postgresql":
        op.execute(
            f"INSERT INTO {TABLE} ({columns}) "  # noqa: S608 (module constants)
            f"SELECT 'cds-hooks', f.card_uuid, r.value, {decision}, f.override_code, "
            "f.user_comment, f.outcome_at, 'cds-hooks:' || f.service "
            "FROM cds_feedback f, json_array_elements_text(f.record_ids) r ORDER BY f.id"
        )
    elif dialect == "sqlite":
        op.execute(
            f"INSERT INTO {TABLE} ({columns}) "  # noqa: S608 (module constants)
            f"SELECT 'cds-hooks', f.card_uuid, r.value, {decision}, f.override_code, "
            "f.user_comment, f.outcome_at, 'cds-hooks:' || f.service "
            "FROM cds_feedback f, json_each(f.record_ids) r ORDER BY f.id"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    elif dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
    op.drop_index(op.f("ix_board_decision_assessment_id_record_id"), table_name=TABLE)
    op.drop_index(op.f("ix_board_decision_patient_id"), table_name=TABLE)
    op.drop_table(TABLE)
