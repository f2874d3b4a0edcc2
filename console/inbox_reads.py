"""The inbox (by next deadline, keyset pages, filters, text search) and what is new in it since a
cursor (the live updates)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from console import inbox_sql
from console.records import (
    MAX_LIMIT,
    MIN_SEARCH,
    BadQuery,
    CaseSummary,
    Changes,
    InboxFilter,
    InboxPage,
    NewMessage,
)
from storage.db import utcnow
from storage.models import CASE_CLOSED, CASE_REJECTED, CASE_WAITING
from storage.tables import CASES, MESSAGES, OUTBOX
from triage.deadlines import next_deadline

_SUMMARY_COLUMNS = (
    CASES.c.id,
    CASES.c.tracking_number,
    CASES.c.subject,
    CASES.c.kind,
    CASES.c.unit,
    CASES.c.status,
    CASES.c.channel,
    CASES.c.priority,
    CASES.c.confidential,
    CASES.c.anonymous,
    CASES.c.assignee,
    CASES.c.reporter_name,
    CASES.c.received_at,
    CASES.c.updated_at,
    CASES.c.external_ref,
    # what the next deadline is computed from (``triage.deadlines.next_deadline``)
    CASES.c.verify_due,
    CASES.c.first_response_due,
    CASES.c.resolution_due,
    CASES.c.final_due,
    CASES.c.forwarded_at,
    CASES.c.first_response_at,
    CASES.c.resolved_at,
    CASES.c.paused_at,
    CASES.c.closed_at,
)


def inbox(
    connection: Connection,
    scope_unit: str | None,
    wanted: InboxFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    now: datetime | None = None,
) -> InboxPage:
    """A page of the officer's cases (``scope_unit``: None = all units), by next deadline.

    Two keyset segments, each one index range on PostgreSQL: the cases with a deadline running,
    earliest first; then the others (waiting for the reporter, finished), newest first.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be 1 to {MAX_LIMIT}")
    moment = now or utcnow()
    conditions, search = _conditions(connection, scope_unit, wanted, moment)
    if search is not None and not search.walk:
        search = search.read_once(connection)
    try:
        position = None if cursor is None else inbox_sql.Position.decode(cursor)
    except inbox_sql.CursorError as exc:
        raise BadQuery(str(exc)) from None
    due = inbox_sql.next_due(connection)
    # A finished or waiting case has no deadline running: such a filter reads the second part only
    # (all of it, so that even a case whose clock was never stopped is not lost).
    resting_only = wanted.status in _RESTING and not wanted.overdue
    rows: list[dict[str, Any]] = []
    if not resting_only and (position is None or position.due is not None):
        running = [*conditions, due.is_not(None)]
        if position is not None:
            running.append(inbox_sql.after(connection, position))
        rows = _segment(connection, running, search, (due, CASES.c.id), limit + 1)
    if len(rows) <= limit and not wanted.overdue:
        resting = conditions if resting_only else [*conditions, due.is_(None)]
        if wanted.status == inbox_sql.OPEN:  # a running deadline implies it: only here is it a filter
            resting.append(inbox_sql.status_condition(inbox_sql.OPEN))
        if position is not None and position.due is None:
            resting.append(CASES.c.id < position.case_id)
        rows += _segment(connection, resting, search, (CASES.c.id,), limit + 1 - len(rows), newest_first=True)
    items = [_summary(row, moment) for row in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if items else None
    at = None if resting_only or last is None else last.next_due
    next_cursor = inbox_sql.Position(at, last.id).encode() if more and last else None
    return InboxPage(items, next_cursor)


_RESTING = frozenset({CASE_CLOSED, CASE_REJECTED, CASE_WAITING})
"""Statuses whose cases have no deadline running (finished; the clock stopped)."""


def _segment(
    connection: Connection,
    where: list[ColumnElement[bool]],
    search: inbox_sql.Search | None,
    keys: tuple[ColumnElement[Any], ...],
    need: int,
    *,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """``need`` cases of one part of the inbox, ordered by ``keys``; a search that walks tests at
    most ``WALK_BUDGET`` cases (up to the one that many places on), then reads the matches instead."""
    order = [key.desc() for key in keys] if newest_first else list(keys)

    def fetch(conditions: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
        statement = select(*_SUMMARY_COLUMNS).where(*conditions).order_by(*order).limit(need)
        return [dict(row) for row in connection.execute(statement).mappings()]

    if search is None:
        return fetch(where)
    if search.walk:
        edge = connection.execute(
            select(*keys).where(*where).order_by(*order).offset(inbox_sql.WALK_BUDGET - 1).limit(1)
        ).first()
        bounded = [*where, search.walking]
        if edge is not None:
            bounded.append(inbox_sql.up_to(keys, tuple(edge), newest_first=newest_first))
        found = fetch(bounded)
        if len(found) >= need or edge is None:
            return found
    return fetch([*where, search.indexed])


def _conditions(
    connection: Connection, scope_unit: str | None, wanted: InboxFilter, now: datetime
) -> tuple[list[ColumnElement[bool]], inbox_sql.Search | None]:
    """The filters, and the text search apart (``_segment`` chooses its shape)."""
    found: list[ColumnElement[bool]] = []
    if scope_unit is not None:
        found.append(CASES.c.unit == scope_unit)
    for column in ("channel", "kind", "unit", "assignee"):
        value = getattr(wanted, column)
        if value:
            found.append(CASES.c[column] == value)
    if wanted.status and wanted.status != inbox_sql.OPEN:  # "open": see ``inbox``
        try:
            found.append(inbox_sql.status_condition(wanted.status))
        except ValueError as exc:
            raise BadQuery(str(exc)) from None
    if wanted.confidential is not None:
        found.append(CASES.c.confidential.is_(wanted.confidential))
    if wanted.overdue:
        found.append(inbox_sql.next_due(connection) < now)
    if wanted.text is None:
        return found, None
    words = " ".join(wanted.text.split())
    if len(words) < MIN_SEARCH:
        raise BadQuery(f"search for at least {MIN_SEARCH} characters")
    return found, inbox_sql.search(connection, words)


def _summary(row: Mapping[str, Any], now: datetime) -> CaseSummary:
    upcoming = next_deadline(dict(row))
    due = upcoming[1] if upcoming else None
    return CaseSummary(
        id=row["id"],
        tracking_number=row["tracking_number"],
        subject=row["subject"],
        kind=row["kind"],
        unit=row["unit"],
        status=row["status"],
        channel=row["channel"],
        priority=row["priority"],
        confidential=bool(row["confidential"]),
        anonymous=bool(row["anonymous"]),
        assignee=row["assignee"],
        reporter_name=row["reporter_name"],
        received_at=row["received_at"],
        next_due=due,
        next_deadline=upcoming[0] if upcoming else None,
        overdue=due is not None and due < now,
        updated_at=row["updated_at"],
        external_ref=row["external_ref"],
    )


# --- live updates --------------------------------------------------------------------------------

_CHANGES_LIMIT = 200


def changes_since(connection: Connection, scope_unit: str | None, cursor: str | None) -> Changes:
    """New cases and new messages since ``cursor`` (live updates poll this)."""
    tops = {
        "c": connection.execute(select(func.max(CASES.c.id))).scalar() or 0,
        "m": connection.execute(select(func.max(MESSAGES.c.id))).scalar() or 0,
        "o": connection.execute(select(func.max(OUTBOX.c.id))).scalar() or 0,
    }
    if cursor is None:
        return Changes([], [], _encode_marks(tops))
    marks = _decode_marks(cursor)
    scope = [CASES.c.unit == scope_unit] if scope_unit is not None else []
    new_cases = [
        _summary(dict(row), utcnow())
        for row in connection.execute(
            select(*_SUMMARY_COLUMNS).where(*scope, CASES.c.id > marks["c"]).order_by(CASES.c.id).limit(_CHANGES_LIMIT)
        ).mappings()
    ]
    inbound = connection.execute(
        select(MESSAGES.c.id, MESSAGES.c.channel, MESSAGES.c.direction, MESSAGES.c.received_at, CASES.c.tracking_number)
        .select_from(MESSAGES.join(CASES, CASES.c.id == MESSAGES.c.case_id))
        .where(*scope, MESSAGES.c.id > marks["m"])
        .order_by(MESSAGES.c.id)
        .limit(_CHANGES_LIMIT)
    ).all()
    outbound = connection.execute(
        select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.created_at, CASES.c.tracking_number)
        .select_from(OUTBOX.join(CASES, CASES.c.id == OUTBOX.c.case_id))
        .where(*scope, OUTBOX.c.id > marks["o"])
        .order_by(OUTBOX.c.id)
        .limit(_CHANGES_LIMIT)
    ).all()
    messages = [
        NewMessage(
            row.tracking_number, f"in-{row.id}", "in" if row.direction == "in" else "out", row.channel, row.received_at
        )
        for row in inbound
    ] + [NewMessage(row.tracking_number, f"out-{row.id}", "out", row.channel, row.created_at) for row in outbound]
    messages.sort(key=lambda message: message.at)
    # A full batch moves the mark only as far as it read; otherwise up to what exists now.
    after = {
        "c": new_cases[-1].id if len(new_cases) == _CHANGES_LIMIT else max(tops["c"], marks["c"]),
        "m": inbound[-1].id if len(inbound) == _CHANGES_LIMIT else max(tops["m"], marks["m"]),
        "o": outbound[-1].id if len(outbound) == _CHANGES_LIMIT else max(tops["o"], marks["o"]),
    }
    return Changes(new_cases, messages, _encode_marks(after))


def _encode_marks(marks: Mapping[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(dict(marks), separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_marks(cursor: str) -> dict[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return {key: int(data[key]) for key in ("c", "m", "o")}
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadQuery("the cursor is not one of these updates") from exc
