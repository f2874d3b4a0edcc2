"""Cases, their threads and audit trail: the Core writes triage makes, the reads officers make."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from envelopes import Reporter
from storage.db import utcnow
from storage.reporters import identity_keys
from storage.sql import insert_ignore
from storage.tables import ATTACHMENTS, CASES, COUNTER, EVENTS, MEDIA, MESSAGES, OUTBOX, RAW


def open_cases_by_conversation(connection: Connection, keys: Iterable[str]) -> dict[str, int]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = connection.execute(
        select(CASES.c.conversation_key, CASES.c.id).where(
            and_(CASES.c.conversation_key.in_(wanted), CASES.c.closed_at.is_(None))
        )
    )
    return {r.conversation_key: r.id for r in rows}


def reserve_sequences(connection: Connection, scope: str, count: int) -> int:
    """Reserve ``count`` consecutive tracking sequence numbers in ``scope``; returns the first.

    The counter row stays locked until ``connection``'s transaction ends: run it in a short
    transaction of its own (``triage.numbering``), never inside the triage transaction.
    """
    bump = update(COUNTER).where(COUNTER.c.scope == scope).values(value=COUNTER.c.value + count)
    last = connection.execute(bump.returning(COUNTER.c.value)).scalar_one_or_none()
    if last is None:  # the first case of the year
        connection.execute(insert_ignore(connection, COUNTER), {"scope": scope, "value": 0})
        last = connection.execute(bump.returning(COUNTER.c.value)).scalar_one()
    return int(last) - count + 1


def insert_returning_ids(connection: Connection, target: Any, rows: Sequence[dict[str, Any]], key: str) -> list[int]:
    """Insert rows and return their ids in the order given, matched to the rows by ``key``, a
    unique column every row sets: RETURNING promises no order, and asking SQLAlchemy for one
    (``sort_by_parameter_order``) makes it insert one row per statement on SQLite."""
    if not rows:
        return []
    result = connection.execute(target.insert().returning(target.c.id, target.c[key]), list(rows))
    ids = {returned: row_id for row_id, returned in result}
    return [int(ids[row[key]]) for row in rows]


def insert_cases(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    return insert_returning_ids(connection, CASES, rows, "tracking_number")


def insert_messages(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Messages that came in: each names its own raw message."""
    return insert_returning_ids(connection, MESSAGES, rows, "raw_message_id")


def append_messages(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Messages that came in, when their ids are not needed (no attachments follow): a plain
    ``executemany``, without the RETURNING that makes SQLAlchemy render and read a statement per batch."""
    if rows:
        connection.execute(MESSAGES.insert(), list(rows))


def insert_outbox(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    return insert_returning_ids(connection, OUTBOX, rows, "idempotency_key")


def insert_attachments(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(ATTACHMENTS.insert(), list(rows))


def record_events(connection: Connection, events: Sequence[dict[str, Any]]) -> None:
    """Append to the audit trail; each event names ``case_id``, ``actor``, ``action``, ``detail``."""
    if events:
        now = utcnow()
        connection.execute(EVENTS.insert(), [{"at": now, **event} for event in events])


def touch_cases(connection: Connection, case_ids: Iterable[int]) -> None:
    ids = list(set(case_ids))
    if ids:
        connection.execute(update(CASES).where(CASES.c.id.in_(ids)).values(updated_at=utcnow()))


# --- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: str | None = None
    unit: str | None = None
    channel: str | None = None
    in_person: bool = False
    """Only cases no channel could take the receipt to: the tracking number is given in person."""
    overdue_at: datetime | None = None
    """Only cases with a deadline missed by then (not met, clock running, case not finished)."""
    limit: int = 50


def list_cases(connection: Connection, where: CaseFilter) -> list[dict[str, Any]]:
    """Newest cases first, with the fields an officer scans a list by."""
    statement = select(
        CASES.c.id,
        CASES.c.tracking_number,
        CASES.c.external_ref,
        CASES.c.kind,
        CASES.c.unit,
        CASES.c.status,
        CASES.c.priority,
        CASES.c.confidential,
        CASES.c.channel,
        CASES.c.receipt_via,
        CASES.c.subject,
        CASES.c.received_at,
        CASES.c.first_response_due,
        CASES.c.resolution_due,
        CASES.c.verify_due,
        CASES.c.final_due,
        CASES.c.forwarded_at,
        CASES.c.first_response_at,
        CASES.c.resolved_at,
        CASES.c.paused_at,
        CASES.c.closed_at,
        CASES.c.assignee,
    ).order_by(CASES.c.id.desc())
    for column, value in (("status", where.status), ("unit", where.unit), ("channel", where.channel)):
        if value:
            statement = statement.where(CASES.c[column] == value)
    if where.in_person:
        statement = statement.where(CASES.c.receipt_via.is_(None))
    if where.overdue_at is not None:
        statement = statement.where(overdue(where.overdue_at))
    return [dict(row) for row in connection.execute(statement.limit(where.limit)).mappings()]


def overdue(now: datetime) -> Any:
    """A deadline missed at ``now``: due before it and not met, the clock running, the case open."""
    missed = or_(
        and_(CASES.c.verify_due < now, CASES.c.forwarded_at.is_(None)),
        and_(CASES.c.first_response_due < now, CASES.c.first_response_at.is_(None)),
        and_(CASES.c.resolution_due < now, CASES.c.resolved_at.is_(None)),
        and_(CASES.c.final_due < now, CASES.c.resolved_at.is_(None)),
    )
    return and_(CASES.c.closed_at.is_(None), CASES.c.paused_at.is_(None), missed)


def find_case(connection: Connection, reference: str) -> dict[str, Any] | None:
    """A case by tracking number (any spelling) or id, with its reporter (as the case's own
    messages gave them), thread, outbox and audit trail."""
    condition = CASES.c.id == int(reference) if reference.isdigit() else CASES.c.tracking_number == reference
    row = connection.execute(select(CASES).where(condition)).mappings().first()
    if row is None:
        return None
    case = dict(row)
    case_id = case["id"]
    case["messages"] = _rows(connection, select(MESSAGES).where(MESSAGES.c.case_id == case_id), MESSAGES.c.id)
    case["outbox"] = _rows(connection, select(OUTBOX).where(OUTBOX.c.case_id == case_id), OUTBOX.c.id)
    case["events"] = _rows(connection, select(EVENTS).where(EVENTS.c.case_id == case_id), EVENTS.c.id)
    case["reporter"] = case_reporter(connection, case)
    return case


def _rows(connection: Connection, statement: Any, order: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in connection.execute(statement.order_by(order)).mappings()]


@dataclass(frozen=True, slots=True)
class ReportProgress:
    """How far one inbound message got: the raw state, its case and its receipt."""

    raw_id: int
    state: str
    received_at: datetime
    error: str | None
    tracking_number: str | None
    case_status: str | None
    receipt: dict[str, Any] | None
    """The receipt's outbox row (body, created_at, state, sent_at, provider_message_id, recipient)
    from when triage wrote it, sent or not."""


def report_progress(connection: Connection, channel: str, raw_id: int) -> ReportProgress | None:
    row = (
        connection.execute(
            select(
                RAW.c.id,
                RAW.c.state,
                RAW.c.received_at,
                RAW.c.error,
                CASES.c.tracking_number,
                CASES.c.status,
                OUTBOX.c.body,
                OUTBOX.c.created_at,
                OUTBOX.c.state.label("receipt_state"),
                OUTBOX.c.sent_at,
                OUTBOX.c.provider_message_id,
                OUTBOX.c.recipient,
            )
            .select_from(
                RAW.outerjoin(CASES, CASES.c.id == RAW.c.case_id).outerjoin(
                    OUTBOX, and_(OUTBOX.c.case_id == CASES.c.id, OUTBOX.c.purpose == "receipt")
                )
            )
            .where(and_(RAW.c.id == raw_id, RAW.c.channel == channel))
            .order_by(OUTBOX.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    answer = dict(row) if row["body"] is not None else _caseless_answer(connection, raw_id)
    return ReportProgress(
        raw_id=row["id"],
        state=row["state"],
        received_at=row["received_at"],
        error=row["error"],
        tracking_number=row["tracking_number"],
        case_status=row["status"],
        receipt=answer,
    )


def _caseless_answer(connection: Connection, raw_id: int) -> dict[str, Any] | None:
    """The answer to a message kept without a case (a greeting: ``triage/caseless.py``), shown
    where a receipt would be; found by its idempotency key, one index probe."""
    row = (
        connection.execute(
            select(
                OUTBOX.c.body,
                OUTBOX.c.created_at,
                OUTBOX.c.state.label("receipt_state"),
                OUTBOX.c.sent_at,
                OUTBOX.c.provider_message_id,
                OUTBOX.c.recipient,
            ).where(OUTBOX.c.idempotency_key.in_([f"greeting:raw:{raw_id}", f"status:raw:{raw_id}"]))
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def count_by_state(connection: Connection) -> dict[str, dict[str, int]]:
    """Rows per state of raw messages and outbox: the pipeline's backlog at a glance."""
    raw = connection.execute(select(RAW.c.state, func.count()).group_by(RAW.c.state))
    out = connection.execute(select(OUTBOX.c.state, func.count()).group_by(OUTBOX.c.state))
    return {"raw_message": {s: int(n) for s, n in raw}, "outbox": {s: int(n) for s, n in out}}


def case_reporter(connection: Connection, case: Mapping[str, Any]) -> dict[str, Any] | None:
    """The case's reporter as the case's own messages gave them: the name its first message gave
    (``cases.reporter_name``) and the identities (email, phone, channel user) its messages carried.

    Not the reporter's first name ever seen, nor every identity linked to them: a phone shared by
    two people makes them one reporter, and one person's name or email must not appear on the
    other's case, nor on an anonymous one. Reads only the case's messages (``raw_message.case_id``).
    """
    reporter_id = case["reporter_id"]
    if reporter_id is None:
        return None
    reporter: dict[str, Any] = {
        "id": reporter_id,
        "name": case["reporter_name"],
        "email": [],
        "phone": [],
        "channel_user": [],
    }
    given = select(RAW.c.channel, RAW.c.normalized["reporter"]).where(RAW.c.case_id == case["id"])
    for channel, record in connection.execute(given.order_by(RAW.c.id)):
        for kind, value in identity_keys(Reporter.model_validate(record or {}), channel):
            if value not in reporter[kind]:
                reporter[kind].append(value)
    return {**reporter, "hidden": False}


def case_attachments(connection: Connection, case_id: int) -> list[dict[str, Any]]:
    """The files of a case's messages, by message: those that came with a message (``state``
    stored) and the media fetched from the channel after storage (``state`` pending, fetching,
    fetched, or failed with the reason in ``error``: the officer sees what could not be had)."""
    statement = (
        select(
            ATTACHMENTS.c.case_message_id.label("message_id"),
            ATTACHMENTS.c.filename,
            ATTACHMENTS.c.content_type,
            ATTACHMENTS.c.size,
            ATTACHMENTS.c.sha256,
        )
        .select_from(ATTACHMENTS.join(MESSAGES, MESSAGES.c.id == ATTACHMENTS.c.case_message_id))
        .where(MESSAGES.c.case_id == case_id)
        .order_by(ATTACHMENTS.c.id)
    )
    stored = [
        {**row, "kind": "file", "state": "stored", "error": None} for row in connection.execute(statement).mappings()
    ]
    media = (
        select(
            MESSAGES.c.id.label("message_id"),
            MEDIA.c.filename,
            MEDIA.c.content_type,
            MEDIA.c.size,
            MEDIA.c.sha256,
            MEDIA.c.kind,
            MEDIA.c.state,
            MEDIA.c.error,
        )
        .select_from(MEDIA.join(MESSAGES, MESSAGES.c.raw_message_id == MEDIA.c.raw_message_id))
        .where(MESSAGES.c.case_id == case_id)
        .order_by(MEDIA.c.raw_message_id, MEDIA.c.position)
    )
    fetched = [dict(row) for row in connection.execute(media).mappings()]
    return sorted(stored + fetched, key=lambda attachment: int(attachment["message_id"]))
