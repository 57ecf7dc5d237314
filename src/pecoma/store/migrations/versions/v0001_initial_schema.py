"""The initial registry schema: patients, case versions, assessments, scans, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Case versions and audit entries are append-only: triggers refuse UPDATE and DELETE on
them, so that not even a hand-written SQL statement can rewrite the history.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

APPEND_ONLY = ("case_version", "audit_log")


def _when(name: str) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _who(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=80), nullable=False)


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registry_id", sa.String(length=40), nullable=False),
        _when("created_at"),
        _who("created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("registry_id", name=op.f("uq_patient_registry_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("at"),
        _who("actor"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_audit_log_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_entity_entity_id"), "audit_log", ["entity", "entity_id"]
    )
    op.create_index(op.f("ix_audit_log_patient_id"), "audit_log", ["patient_id"])
    op.create_table(
        "case_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        _when("recorded_at"),
        _who("recorded_by"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_case_version_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_version")),
        sa.UniqueConstraint(
            "patient_id", "version", name=op.f("uq_case_version_patient_id_version")
        ),
    )
    op.create_index(op.f("ix_case_version_patient_id"), "case_version", ["patient_id"])
    op.create_table(
        "imaging_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("finding", sa.String(length=32), nullable=False),
        _when("recorded_at"),
        _who("recorded_by"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_imaging_event_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imaging_event")),
    )
    op.create_index(op.f("ix_imaging_event_patient_id"), "imaging_event", ["patient_id"])
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("knowledge_version", sa.String(length=20), nullable=False),
        sa.Column("engine_version", sa.String(length=20), nullable=False),
        sa.Column("settings_digest", sa.String(length=32), nullable=False),
        sa.Column("risk_group", sa.String(length=16), nullable=False),
        sa.Column("disease_status", sa.String(length=40), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        _when("created_at"),
        _who("created_by"),
        sa.ForeignKeyConstraint(
            ["case_version_id"],
            ["case_version.id"],
            name=op.f("fk_assessment_case_version_id_case_version"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_assessment_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    op.create_index(
        op.f("ix_assessment_case_version_id"), "assessment", ["case_version_id"]
    )
    op.create_index(op.f("ix_assessment_patient_id"), "assessment", ["patient_id"])
    _append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index(op.f("ix_assessment_patient_id"), table_name="assessment")
    op.drop_index(op.f("ix_assessment_case_version_id"), table_name="assessment")
    op.drop_table("assessment")
    op.drop_index(op.f("ix_imaging_event_patient_id"), table_name="imaging_event")
    op.drop_table("imaging_event")
    op.drop_index(op.f("ix_case_version_patient_id"), table_name="case_version")
    op.drop_table("case_version")
    op.drop_index(op.f("ix_audit_log_patient_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_entity_entity_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("patient")


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION pecoma_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pecoma_append_only()"
            )
        elif dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
                )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif dialect == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pecoma_append_only()")
