"""Alembic environment: run the migrations on the engine the caller passed in.

Called by :func:`pecoma.store.db.upgrade` and :func:`~pecoma.store.db.downgrade`, never
through an ``alembic.ini``: the engine comes in ``config.attributes["engine"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from pecoma.store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("pecoma migrations need an engine in config.attributes['engine']")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
