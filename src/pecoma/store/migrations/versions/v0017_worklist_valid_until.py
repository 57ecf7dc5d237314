"""The last date a stored worklist state holds for: ``worklist_state.valid_until``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-24

A plan with an owed examination's visit still open is drawn otherwise, without a new
fact, once the routine visit after it is due: the two become one visit asking for every
examination (:attr:`pecoma.engine.plan.SurveillancePlan.drawn_alike`). The stored state
then holds only up to the day before that due date (``valid_until``; ``NULL``: no end),
and the worklist recomputes the patient after it. The states stored before this revision
were computed without that bound and may hold the owed examination's visit alone past
the routine visit's due date: they are removed (derived data), so that the worklist
recomputes each patient until a write or ``pecoma registry reassess`` stores its state
again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM worklist_state"))
    with op.batch_alter_table("worklist_state") as batch:
        batch.add_column(sa.Column("valid_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worklist_state") as batch:
        batch.drop_column("valid_until")
