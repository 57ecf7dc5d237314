"""Browser sessions kept in the database, and refused sign-ins for the attempt limit.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02

Whatever a server remembers lives in the database, so that several workers act as one:
``web_session`` lets signing out end a session everywhere (the cookie alone cannot be
recalled); ``login_failure`` counts refused sign-ins per client address (its SHA-256
digest) across workers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"],
                                name=op.f("fk_web_session_token_id_api_token")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_token_id"), "web_session", ["token_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_address_at", "login_failure", ["address", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_address_at", table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index(op.f("ix_web_session_token_id"), table_name="web_session")
    op.drop_table("web_session")
