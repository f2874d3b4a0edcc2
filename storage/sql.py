"""Dialect helpers for the Core statements on the hot path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, or_
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(connection: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's database."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def keyed_in(target: Table, outer: str, inner: str, keys: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    """``(outer, inner) IN keys`` written as ``outer = ? AND inner IN (...)`` per outer value.

    SQLite does not use a composite index for a row-value ``IN``; this form it does, so a lookup
    stays an index probe however large the table grows.
    """
    grouped: dict[str, list[str]] = {}
    for first, second in keys:
        grouped.setdefault(first, []).append(second)
    return or_(*(and_(target.c[outer] == first, target.c[inner].in_(seconds)) for first, seconds in grouped.items()))
