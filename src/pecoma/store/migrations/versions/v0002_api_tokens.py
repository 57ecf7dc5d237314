"""API tokens for server mode: a name, a role, and the SHA-256 digest of the token.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

The token itself is never stored: it is shown once when created. A token is revoked by
setting ``revoked_at``; rows are kept so that audit entries can still name the token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_token_digest")),
        sa.UniqueConstraint("name", name=op.f("uq_api_token_name")),
    )


def downgrade() -> None:
    op.drop_table("api_token")
