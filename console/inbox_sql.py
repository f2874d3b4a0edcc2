"""The inbox's SQL: the next-deadline expression it sorts by, its filters and its keyset cursor.

PostgreSQL gets ``storage.models.NEXT_DUE_SQL`` verbatim, the expression its indexes are built on
(the planner uses an expression index only for the same expression). SQLite's ``min()`` of
several values is NULL when one is, so there the missing ones stand in as a date after any other.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal, literal_column, or_, select, tuple_, union
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import CASE_STATUSES, NEXT_DUE_SQL
from storage.tables import CASES, MESSAGES

OPEN = "open"
"""The status filter for every case not finished (closed or rejected)."""

_LAST = "9999-12-31 23:59:59.999999"
_SQLITE_NEXT_DUE = (
    "CASE WHEN cases.closed_at IS NULL AND cases.paused_at IS NULL THEN NULLIF(MIN("
    + ", ".join(
        f"COALESCE(CASE WHEN cases.{done} IS NULL THEN cases.{due} END, '{_LAST}')"
        for done, due in (
            ("forwarded_at", "verify_due"),
            ("first_response_at", "first_response_due"),
            ("resolved_at", "resolution_due"),
            ("resolved_at", "final_due"),
        )
    )
    + f"), '{_LAST}') END"
)


def next_due(connection: Connection) -> ColumnElement[datetime]:
    """The case's next deadline that applies (NULL: none runs), for this connection's database."""
    sql = f"({NEXT_DUE_SQL})" if connection.dialect.name == "postgresql" else f"({_SQLITE_NEXT_DUE})"
    return literal_column(sql, UTCDateTime())


class CursorError(ValueError):
    """A cursor this module did not make (or another filter's): the caller's 400."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: in the cases with a deadline running (``due`` set), or after them."""

    due: datetime | None
    case_id: int

    def encode(self) -> str:
        data = {"d": self.due.isoformat() if self.due else None, "i": self.case_id}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
            due = None if data["d"] is None else datetime.fromisoformat(data["d"])
            case_id = int(data["i"])
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise CursorError("the cursor is not one this inbox gave") from exc
        if due is not None and due.tzinfo is None:
            raise CursorError("the cursor is not one this inbox gave")
        return cls(due, case_id)


def after(connection: Connection, position: Position) -> ColumnElement[bool]:
    """The cases after ``position`` in the running-deadline segment (``due`` set)."""
    due = next_due(connection)
    assert position.due is not None
    return tuple_(due, CASES.c.id) > tuple_(literal(position.due, UTCDateTime()), literal(position.case_id))


def up_to(keys: tuple[ColumnElement[Any], ...], edge: tuple[Any, ...], *, newest_first: bool) -> ColumnElement[bool]:
    """The cases from the start of an order by ``keys`` to ``edge`` (its keys' values), included."""
    bound = tuple_(*(literal(value, key.type) for key, value in zip(keys, edge, strict=True)))
    return tuple_(*keys) >= bound if newest_first else tuple_(*keys) <= bound


def status_condition(status: str) -> ColumnElement[bool]:
    if status == OPEN:
        return CASES.c.closed_at.is_(None)
    if status not in CASE_STATUSES:
        raise ValueError(f"{status!r} is not a case status; valid: {OPEN}, {', '.join(CASE_STATUSES)}")
    return CASES.c.status == status


def like_pattern(words: str) -> str:
    """``%words%`` with LIKE's own characters escaped (by backslash), lower case."""
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class Search:
    """The subject or any message of a case contains the words, in two shapes.

    ``indexed``: the case ids from the two trigram indexes (an OR across the tables would leave no
    index to use), then sorted: every match is read, cheap when they are few. ``walking``: each
    case tested as the inbox walks its order, stopping at a page: cheap when the words are common
    (``mohon`` is in most messages), slow when they are rare. ``walk`` says which to try first:
    PostgreSQL's estimate (its statistics of the indexed ``lower(...)``) of how many rows hold the
    words; SQLite has no trigram index and takes the first shape.
    """

    indexed: ColumnElement[bool]
    walking: ColumnElement[bool]
    walk: bool
    matches: Any
    """The ids of the cases holding the words (the union ``indexed`` tests against)."""

    def read_once(self, connection: Connection) -> Search:
        """The indexed shape with its matches read now, when they are few: both parts of the
        inbox then test against the same list instead of each reading the indexes again."""
        ids = [row[0] for row in connection.execute(select(self.matches.subquery()).limit(MATCHES_READ_ONCE + 1))]
        if len(ids) > MATCHES_READ_ONCE:
            return self
        return Search(indexed=CASES.c.id.in_(ids), walking=self.walking, walk=self.walk, matches=self.matches)


MATCHES_READ_ONCE = 5000


WALK_BUDGET = 2000
"""The most cases a walk tests before it gives way to the indexed shape (an estimate can be wrong,
and words common in all cases can be rare in one unit's)."""


def search(connection: Connection, words: str) -> Search:
    pattern = like_pattern(words)
    subject_has = func.lower(CASES.c.subject).like(pattern, escape="\\")
    message_has = func.lower(MESSAGES.c.text).like(pattern, escape="\\")
    in_subject = select(CASES.c.id).where(subject_has)
    in_messages = select(MESSAGES.c.case_id).where(message_has)
    # A scalar subquery, never an EXISTS: PostgreSQL would hash that one, reading every match.
    first = select(literal(True)).where(MESSAGES.c.case_id == CASES.c.id, message_has).limit(1)
    matches = union(in_subject, in_messages)
    return Search(
        indexed=CASES.c.id.in_(matches),
        matches=matches,
        walking=or_(subject_has, func.coalesce(first.scalar_subquery(), False)),
        walk=connection.dialect.name == "postgresql" and _common(connection, pattern),
    )


COMMON = 0.01
"""Rows holding the words (subjects and messages, as PostgreSQL estimates them), as a share of the
cases, above which the words count as common and the inbox walks its order. Where the two ways
cost the same: reading every match costs about 2.5 us a message (at a million cases, 1 % is
17,000 messages: ~40 ms); walking, about 15 us a case tested (50 / 1 % = 5,000 cases: ~75 ms)."""


def _common(connection: Connection, pattern: str) -> bool:
    estimate = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM cases WHERE lower(subject) LIKE %(p)s "
        "UNION ALL SELECT 1 FROM case_message WHERE lower(text) LIKE %(p)s",
        {"p": pattern},
    ).scalar_one()
    plan = estimate if isinstance(estimate, list) else json.loads(estimate)
    matches = float(plan[0]["Plan"]["Plan Rows"])
    cases = connection.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'cases'").scalar_one()
    return matches >= COMMON * max(float(cases or 0), 1.0)
