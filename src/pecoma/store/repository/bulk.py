"""Bulk writes: fresh primary keys taken before the rows are written, and plain rows
inserted in bulk (``COPY`` on PostgreSQL, one ``executemany`` on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pecoma.store.rawjson import json_serializer
from pecoma.store.repository.base import RepositoryBase, _table


class BulkWrites(RepositoryBase):
    """Bulk inserts inside the current transaction."""

    def _new_ids(self, s: Session, model: type[Any], n: int) -> list[int]:
        """``n`` fresh primary keys of ``model``'s table, taken before the rows are written
        so that a bulk insert needs no ``RETURNING``: on PostgreSQL from the table's
        sequence; on SQLite after the largest id (the transaction holds the write lock)."""
        if n == 0:
            return []
        name = _table(model).name
        if self.dialect == "postgresql":
            return list(s.scalars(
                sql_text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                         "FROM generate_series(1, :n)"),
                {"t": name, "n": n},
            ))
        top = s.scalar(select(func.max(_table(model).c.id))) or 0
        return list(range(top + 1, top + 1 + n))

    def _bulk_insert(
        self, s: Session, model: type[Any], columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert plain rows (values in the order of ``columns``) in the current
        transaction, in bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite. The
        values are converted by the columns' own types, exactly as an ``insert()`` would
        store them."""
        if not rows:
            return
        table = _table(model)
        conn = s.connection()
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            convert = [json_serializer if isinstance(table.c[c].type, JSON) else None
                       for c in columns]
            statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"  # model names
            try:
                with raw.cursor() as cur, cur.copy(statement) as copy:  # type: ignore[union-attr]
                    for row in _converted(rows, convert):
                        copy.write_row(row)
            except dialect.loaded_dbapi.Error as exc:
                # as SQLAlchemy reports any driver error (retry, message)
                raise DBAPIError.instance(statement, None, exc,
                                          dialect.loaded_dbapi.Error) from exc
            return
        procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
                 for c in columns]
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",  # noqa: S608
            _converted(rows, procs),
        )


def _converted(rows: Sequence[Sequence[Any]], convert: Sequence[Callable[[Any], Any] | None]
               ) -> list[tuple[Any, ...]]:
    """``rows`` with each value passed through its column's function (``None``: kept as
    it is), a column at a time: a few calls per column rather than a Python step per
    value (an import writes 100,000 rows of a dozen columns each)."""
    columns = [values if f is None else map(f, values)
               for f, values in zip(convert, zip(*rows, strict=True), strict=True)]
    return list(zip(*columns, strict=True))

