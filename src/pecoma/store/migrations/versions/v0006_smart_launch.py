"""SMART App Launch state: one row per launch in progress, single use, short-lived.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02

Holds what the return from the EHR's authorization server needs (the PKCE verifier, the
FHIR server and its token endpoint), keyed by the SHA-256 digest of ``state`` and bound
to the browser by the digest of a cookie. Never an access token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "smart_launch",
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("browser_digest", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("iss", sa.String(length=2048), nullable=False),
        sa.Column("token_endpoint", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_smart_launch")),
    )
    op.create_index(op.f("ix_smart_launch_expires_at"), "smart_launch", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_smart_launch_expires_at"), table_name="smart_launch")
    op.drop_table("smart_launch")
