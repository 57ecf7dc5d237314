"""CDS card reports compressed with LZ4 on PostgreSQL: ``cds_report.text``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Every CDS Hooks answer about a PEComa patient stores the full report its cards link to
(about 8 kB of text), above PostgreSQL's TOAST threshold, so the server compresses each
one. With the default method, ``pglz``, that took the server about 0.4 ms of CPU per
report; with ``lz4`` about 0.2 ms, for about the same size (bench/RESULTS.md). That CPU is
taken from the same cores that answer the EHR's calls. The column's values are unchanged:
compression is the server's storage detail, read back as the same text. Reports stored
before this revision stay as they are until they expire.

On SQLite, and on a PostgreSQL server older than 14 or built without LZ4, nothing
changes.
"""

from __future__ import annotations

from pecoma.store.migrations.versions.v0010_assessment_lz4 import set_compression

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    set_compression("ALTER TABLE cds_report ALTER COLUMN text SET COMPRESSION lz4")


def downgrade() -> None:
    set_compression("ALTER TABLE cds_report ALTER COLUMN text SET COMPRESSION default")
