"""Stored assessments compressed with LZ4 on PostgreSQL: ``assessment.output``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

An assessment's JSON (about 17 kB) is larger than PostgreSQL's TOAST threshold, so every
stored assessment is compressed by the server. Its default method, ``pglz``, made up
about half of the time of a large import (bench/RESULTS.md); ``lz4`` compresses the same
JSON about 2.5 times faster, to about the same size. The column's values are unchanged:
compression is the server's storage detail, read back as the same text by every reader.
Values stored before this revision stay as they are (both methods are read alike); only
values written from now on use ``lz4``.

On SQLite, and on a PostgreSQL server older than 14 or built without LZ4, nothing
changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


_LZ4 = "ALTER TABLE assessment ALTER COLUMN output SET COMPRESSION lz4"
_DEFAULT = "ALTER TABLE assessment ALTER COLUMN output SET COMPRESSION default"


def set_compression(statement: str) -> None:
    """Run ``statement`` (a column's compression method) on PostgreSQL 14 or newer built
    with LZ4; elsewhere nothing changes."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if int(bind.execute(sa.text("SHOW server_version_num")).scalar_one()) < 140000:
        return
    try:
        with bind.begin_nested():  # a server built without LZ4 refuses the method
            bind.execute(sa.text(statement))
    except sa.exc.DBAPIError:
        return


def upgrade() -> None:
    set_compression(_LZ4)


def downgrade() -> None:
    set_compression(_DEFAULT)
