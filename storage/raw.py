"""Raw messages: the idempotent insert on arrival and the progress of each one."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, select, update

from envelopes import BlobRef, RawMessage, Stored
from storage.db import utcnow
from storage.models import RAW_DEAD, RAW_NORMALIZED, RAW_RECEIVED
from storage.sql import insert_ignore, keyed_in
from storage.tables import RAW


@dataclass(frozen=True, slots=True)
class StoredRaw:
    """A stored raw message as a stage reads it back."""

    id: int
    message: RawMessage
    state: str
    attempts: int
    normalized: dict[str, Any] | None


def insert_raw_messages(connection: Connection, messages: Sequence[RawMessage]) -> list[Stored]:
    """Store messages, skipping ones already stored; results are in the input's order."""
    if not messages:
        return []
    now = utcnow()
    rows = [_row(message, now) for message in messages]
    statement = insert_ignore(connection, RAW).returning(RAW.c.id, RAW.c.channel, RAW.c.external_id)
    ids = {(r.channel, r.external_id): r.id for r in connection.execute(statement, rows)}
    created = set(ids)
    stored_before = {(m.channel, m.external_id) for m in messages} - created  # resent: look up their ids
    if stored_before:
        ids.update(
            ((r.channel, r.external_id), r.id)
            for r in connection.execute(
                select(RAW.c.id, RAW.c.channel, RAW.c.external_id).where(
                    keyed_in(RAW, "channel", "external_id", stored_before)
                )
            )
        )
    seen: set[tuple[str, str]] = set()
    results = []
    for message in messages:
        key = (message.channel, message.external_id)
        results.append(Stored(ids[key], key in created and key not in seen))
        seen.add(key)
    return results


def _row(message: RawMessage, now: datetime) -> dict[str, Any]:
    return {
        "channel": message.channel,
        "external_id": message.external_id,
        "received_at": message.received_at,
        "content_type": message.content_type,
        "payload": message.payload,
        "headers": message.headers,
        "attachments": [a.model_dump() for a in message.attachments],
        "state": RAW_RECEIVED,
        "queued_at": now,
        "attempts": 0,
    }


def load_raw(connection: Connection, ids: Iterable[int], state: str) -> list[StoredRaw]:
    """The raw messages among ``ids`` that are still in ``state`` (others were done already)."""
    wanted = list(ids)
    if not wanted:
        return []
    result = connection.execute(_IN_STATE, {"ids": wanted, "state": state})
    return [_stored(row) for row in result.mappings()]


_IN_STATE = select(RAW).where(RAW.c.id.in_(bindparam("ids", expanding=True)), RAW.c.state == bindparam("state"))


def find_raw(connection: Connection, channel: str, external_id: str) -> StoredRaw | None:
    """The message stored under its channel's key, if any."""
    row = (
        connection.execute(select(RAW).where(and_(RAW.c.channel == channel, RAW.c.external_id == external_id)))
        .mappings()
        .first()
    )
    return None if row is None else _stored(row)


def still_in(connection: Connection, ids: Iterable[int], state: str) -> set[int]:
    """Which of ``ids`` are still in ``state``: what a stage prepared may have been done meanwhile."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(connection.scalars(_STILL_IN, {"ids": wanted, "state": state}))


_STILL_IN = select(RAW.c.id).where(RAW.c.id.in_(bindparam("ids", expanding=True)), RAW.c.state == bindparam("state"))


def _stored(row: Any) -> StoredRaw:
    # Rows were validated on the way in; building the record again without validation is safe.
    message = RawMessage.model_construct(
        channel=row["channel"],
        external_id=row["external_id"],
        received_at=row["received_at"],
        content_type=row["content_type"],
        payload=row["payload"],
        headers=row["headers"],
        attachments=tuple(BlobRef.model_construct(**a) for a in row["attachments"]),
    )
    return StoredRaw(row["id"], message, row["state"], row["attempts"], row["normalized"])


def load_normalized(connection: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The normalized records of the messages among ``ids`` still waiting for triage."""
    wanted = list(ids)
    if not wanted:
        return []
    rows = connection.execute(_NORMALIZED, {"ids": wanted})
    return [row.normalized for row in rows if row.normalized is not None]


_NORMALIZED = select(RAW.c.normalized).where(
    RAW.c.id.in_(bindparam("ids", expanding=True)), RAW.c.state == RAW_NORMALIZED
)


def advance(connection: Connection, changes: Sequence[dict[str, Any]], from_state: str) -> None:
    """Move rows forward from ``from_state``; each change names ``id``, ``state`` and extra columns."""
    if not changes:
        return
    now = utcnow()
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_columns.setdefault(tuple(sorted(change)), []).append(change)
    for columns, group in by_columns.items():
        statement = _advance_statement(columns, from_state)
        connection.execute(statement, [{"v_queued_at": now, **{f"v_{k}": v for k, v in g.items()}} for g in group])


@functools.cache
def _advance_statement(columns: tuple[str, ...], from_state: str) -> Any:
    """One statement per set of columns changed (a handful): built once, not every batch."""
    values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in (*columns, "queued_at") if c != "id"}
    return update(RAW).where(and_(RAW.c.id == bindparam("v_id"), RAW.c.state == from_state)).values(**values)


def record_failure(connection: Connection, raw_id: int, error: str, max_attempts: int, expected: str) -> bool:
    """Count a failed attempt against a message still in ``expected``; park it as dead once it
    has failed too often. A message that moved on meanwhile (another worker did it) is left alone.

    Returns True when the message is now dead.
    """
    attempts = RAW.c.attempts + 1
    row = connection.execute(
        update(RAW)
        .where(and_(RAW.c.id == raw_id, RAW.c.state == expected))
        .values(
            attempts=attempts, error=error[:4000], state=case((attempts >= max_attempts, RAW_DEAD), else_=RAW.c.state)
        )
        .returning(RAW.c.state)
    ).first()
    return row is not None and row.state == RAW_DEAD


def mark_dead(connection: Connection, raw_id: int, reason: str, expected: str) -> bool:
    """Park a message that can never succeed as it is (invalid, unparseable), if it is still in
    ``expected``; returns whether it was."""
    result = connection.execute(
        update(RAW)
        .where(and_(RAW.c.id == raw_id, RAW.c.state == expected))
        .values(state=RAW_DEAD, error=reason[:4000], queued_at=utcnow())
    )
    return bool(result.rowcount == 1)


@dataclass(frozen=True, slots=True)
class RawStatus:
    id: int
    channel: str
    state: str
    received_at: datetime
    case_id: int | None
    error: str | None


def raw_status(connection: Connection, raw_id: int) -> RawStatus | None:
    row = connection.execute(
        select(RAW.c.id, RAW.c.channel, RAW.c.state, RAW.c.received_at, RAW.c.case_id, RAW.c.error).where(
            RAW.c.id == raw_id
        )
    ).first()
    return RawStatus(*row) if row else None
