"""Dead messages: list them with their reason, and replay them once the cause is fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from storage.db import utcnow
from storage.models import OUTBOX_DEAD, OUTBOX_PENDING, RAW_DEAD, RAW_NORMALIZED, RAW_RECEIVED
from storage.sweeps import NOT_QUEUED
from storage.tables import CASES, OUTBOX, RAW


@dataclass(frozen=True, slots=True)
class DeadEntry:
    ref: str
    """``raw:<id>`` or ``outbox:<id>``: what ``dlq show`` and ``dlq replay`` take."""
    channel: str
    at: datetime
    attempts: int
    reason: str


def list_dead(connection: Connection, limit: int = 100) -> list[DeadEntry]:
    raw = connection.execute(
        select(RAW.c.id, RAW.c.channel, RAW.c.queued_at, RAW.c.attempts, RAW.c.error)
        .where(RAW.c.state == RAW_DEAD)
        .order_by(RAW.c.id)
        .limit(limit)
    )
    out = connection.execute(
        select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.queued_at, OUTBOX.c.attempts, OUTBOX.c.error)
        .where(OUTBOX.c.state == OUTBOX_DEAD)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    return [DeadEntry(f"raw:{r.id}", r.channel, r.queued_at, r.attempts, r.error or "") for r in raw] + [
        DeadEntry(f"outbox:{r.id}", r.channel, r.queued_at, r.attempts, r.error or "") for r in out
    ]


def parse_ref(ref: str) -> tuple[str, int]:
    kind, _, number = ref.partition(":")
    if kind not in {"raw", "outbox"} or not number.isdigit():
        raise ValueError(f"{ref!r} is not a dead-letter reference (raw:<id> or outbox:<id>)")
    return kind, int(number)


def show_dead(connection: Connection, ref: str) -> dict[str, Any] | None:
    """The row, with ``confidential`` from its case: None while a raw message has no case yet."""
    kind, number = parse_ref(ref)
    target = RAW if kind == "raw" else OUTBOX
    statement = (
        select(target, CASES.c.confidential)
        .select_from(target.outerjoin(CASES, CASES.c.id == target.c.case_id))
        .where(target.c.id == number)
    )
    row = connection.execute(statement).mappings().first()
    if row is None:
        return None
    data = dict(row)
    if kind == "raw":
        payload: bytes = data.pop("payload")
        data["payload_bytes"] = len(payload)
        data["payload_preview"] = payload[:2000].decode("utf-8", errors="replace")
    return data


def replay(connection: Connection, ref: str, *, published: bool = True) -> tuple[str, int, str, str] | None:
    """Put a dead message back where it failed; returns ``(record, id, channel, state)``.

    ``published=False`` is for a caller that cannot reach the stage's queue (``memory://`` lives
    inside the running ``satupintu run``): the row is marked as never queued, so that process's
    next sweep publishes it instead of waiting for the stale timeout.
    """
    kind, number = parse_ref(ref)
    now = utcnow()
    queued_at = now if published else NOT_QUEUED
    if kind == "raw":
        row = connection.execute(
            select(RAW.c.channel, RAW.c.normalized).where(RAW.c.id == number, RAW.c.state == RAW_DEAD)
        ).first()
        if row is None:
            return None
        state = RAW_NORMALIZED if row.normalized is not None else RAW_RECEIVED
        connection.execute(
            update(RAW).where(RAW.c.id == number).values(state=state, attempts=0, error=None, queued_at=queued_at)
        )
        return "raw_message", number, row.channel, state
    row = connection.execute(
        select(OUTBOX.c.channel).where(OUTBOX.c.id == number, OUTBOX.c.state == OUTBOX_DEAD)
    ).first()
    if row is None:
        return None
    connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == number)
        .values(state=OUTBOX_PENDING, attempts=0, error=None, queued_at=queued_at, next_attempt_at=now)
    )
    return "outbox", number, row.channel, OUTBOX_PENDING
