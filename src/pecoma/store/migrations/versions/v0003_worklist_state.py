"""The stored worklist: one ``worklist_state`` row per patient.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The rows are derived data (the next visit, its window, the plan's status and the
versions it was computed with), written by the registry in the transaction of every
write. The migration creates the table empty: the worklist recomputes any patient
without a current row, and ``pecoma registry reassess`` stores the rows of all patients
(the first worklist after an upgrade is therefore as slow as before, until a reassess).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "worklist_state",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("scan_count", sa.Integer(), nullable=False),
        sa.Column("knowledge_version", sa.String(length=20), nullable=False),
        sa.Column("engine_version", sa.String(length=20), nullable=False),
        sa.Column("settings_digest", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("plan_status", sa.String(length=16), nullable=False),
        sa.Column("risk_group", sa.String(length=16), nullable=True),
        sa.Column("disease_status", sa.String(length=40), nullable=True),
        sa.Column("last_scan", sa.Date(), nullable=True),
        sa.Column("visit", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=40), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("latest", sa.Date(), nullable=True),
        sa.Column("imaging", sa.String(length=200), nullable=False),
        sa.Column("last_done_visit", sa.Integer(), nullable=True),
        sa.Column("last_done_on", sa.Date(), nullable=True),
        sa.Column("record", sa.String(length=80), nullable=True),
        sa.Column("provenance", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_worklist_state_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_worklist_state")),
    )


def downgrade() -> None:
    op.drop_table("worklist_state")
