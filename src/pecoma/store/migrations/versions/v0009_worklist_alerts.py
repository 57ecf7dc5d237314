"""The plan's alerts on the stored worklist: a nullable ``worklist_state.alerts`` column.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Each patient's stored state carries the alerts of the surveillance plan (record ids
separated by spaces; empty: none), so that every worklist reads them from the stored
states. The states stored before this revision did not keep them: their column is left
``NULL`` (not known), and the worklist recomputes such a patient on every read, with its
alerts, until a write or ``pecoma registry reassess`` stores the state again. Nothing is
ever shown from a state without its alerts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("worklist_state") as batch:
        batch.add_column(sa.Column("alerts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worklist_state") as batch:
        batch.drop_column("alerts")
