"""An index on each patient's registry id in lower case: ``ix_patient_registry_id_folded``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Registry ids are letters, digits, ``-``, ``_`` and ``.`` (ASCII), compared exactly, so
``pec-0002`` and ``PEC-0002`` had become two patients. A new patient whose id differs from
a stored one only in letter case is now refused; this index lets that check look the id
up without reading the whole table. It is not unique: a registry that already holds such
a pair keeps both patients, and upgrades.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_patient_registry_id_folded", "patient",
                    [sa.text("lower(registry_id)")])


def downgrade() -> None:
    op.drop_index("ix_patient_registry_id_folded", table_name="patient")
