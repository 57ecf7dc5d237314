"""The CDS Hooks service's memory: JWT replay cache, linked reports, cards, feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Every worker of ``pecoma serve`` (and every machine on one PostgreSQL) reads and writes
these tables, so the service behaves as one server. Each table is bounded in size and
retention by the store (see :mod:`pecoma.store.cds`); none holds a patient identifier.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cds_jti",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cds_jti")),
    )
    op.create_index(op.f("ix_cds_jti_expires_at"), "cds_jti", ["expires_at"])
    op.create_table(
        "cds_report",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_cds_report")),
    )
    op.create_index(op.f("ix_cds_report_expires_at"), "cds_report", ["expires_at"])
    op.create_table(
        "cds_card",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("hook_instance", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.String(length=140), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("override_reasons", sa.JSON(), nullable=False),
        sa.Column("knowledge_version", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_cds_card")),
    )
    op.create_index(op.f("ix_cds_card_issued_at"), "cds_card", ["issued_at"])
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_uuid", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=False),
        sa.Column("override_system", sa.String(length=255), nullable=True),
        sa.Column("override_code", sa.String(length=64), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("knowledge_version", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    op.create_index(op.f("ix_cds_feedback_card_uuid"), "cds_feedback", ["card_uuid"])
    op.create_index(op.f("ix_cds_feedback_received_at"), "cds_feedback", ["received_at"])


def downgrade() -> None:
    op.drop_table("cds_feedback")
    op.drop_table("cds_card")
    op.drop_table("cds_report")
    op.drop_table("cds_jti")
