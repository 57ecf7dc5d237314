"""The EHR each CDS card was given to: ``cds_card.issuer``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20

With several trusted issuers (two hospitals on one server, a test and a production EHR),
feedback on a card must come from the EHR the card was given to: it is written as the
team's decision on the card's recommendations. The column holds the SHA-256 of the
issuer (``iss``) of the JWT of the call that was given the card, or NULL when no JWT was
verified. Cards stored before this revision have none: feedback on them sent with a JWT
is refused, as on a card given to another EHR (whose it was cannot be told); they are
pruned after ``card_days``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cds_card") as batch:
        batch.add_column(sa.Column("issuer", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cds_card") as batch:
        batch.drop_column("issuer")
