"""Alembic environment: run the migrations on the engine the caller passed in.

Called by :func:`pecoma.store.db.upgrade` and :func:`~pecoma.store.db.downgrade`, never
through an ``alembic.ini``: the engine comes in ``config.attributes["engine"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from pecoma.store.models import Base

target_metadata = Base.metadata
MIGRATION_LOCK = 0x7065636F  # 'peco'


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
            # SQLite runs DDL inside transactions; without this Alembic commits after each
            # migration, and a second process opening the same new database could take
            # the write lock in between and run the later migrations a second time.
            transactional_ddl=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Two processes opening a new database at once: one migrates, the other
                # waits here and then finds the schema current. (SQLite's write lock,
                # taken when the transaction begins, does the same.)
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            context.run_migrations()
        connection.commit()


run_migrations()
