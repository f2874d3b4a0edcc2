"""One case as an officer works it: the whole thread across channels with delivery states and
attachments, the reporter with linked identities and suggested links, the deadlines, the routing
reason and the audit trail; and a downloadable attachment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from console.records import (
    AttachmentFile,
    AttachmentInfo,
    AuditEntry,
    CaseDetail,
    DeadlineInfo,
    LinkedReporter,
    QueueVisit,
    ReporterInfo,
    SuggestedLink,
    ThreadEntry,
)
from storage import identities, queue_numbers
from storage.cases import case_reporter
from storage.db import utcnow
from storage.models import CaseMove
from storage.tables import ATTACHMENTS, CASES, EVENTS, IDENTITY, MEDIA, MESSAGES, OUTBOX, REPORTER
from triage.deadlines import DEADLINES
from triage.tracking import parse_tracking_number
from visitor_queue.line import written

MOVES = CaseMove.__table__  # type: ignore[attr-defined]
MET_BY = {
    "verify": "forwarded_at",
    "first_response": "first_response_at",
    "resolution": "resolved_at",
    "final": "resolved_at",
}


def case_detail(
    connection: Connection, tracking_number: str, scope_unit: str | None, *, now: datetime | None = None
) -> CaseDetail | None:
    """One case with everything an officer works it by; None when missing or out of scope."""
    case = _case_row(connection, tracking_number, scope_unit)
    if case is None:
        return None
    moment = now or utcnow()
    events = [
        AuditEntry(
            at=row.at, actor=row.actor, action=row.action, detail=row.detail if isinstance(row.detail, dict) else {}
        )
        for row in connection.execute(select(EVENTS).where(EVENTS.c.case_id == case["id"]).order_by(EVENTS.c.id))
    ]
    numbers = _numbers(connection, [case["previous_case_id"], case["merged_into_id"]])
    return CaseDetail(
        case=case,
        thread=_thread(connection, case["id"], events),
        reporter=_reporter(connection, case),
        deadlines=_deadlines(case, moment),
        routing_rules=[rule.strip() for rule in case["routing_rules"].split(",") if rule.strip()],
        events=events,
        previous_case=numbers.get(case["previous_case_id"]),
        merged_into=numbers.get(case["merged_into_id"]),
        related=_related(connection, case["id"]),
        queue_visits=_queue_visits(connection, case["id"]),
    )


def _case_row(connection: Connection, reference: str, scope_unit: str | None) -> dict[str, Any] | None:
    parsed = parse_tracking_number(reference.strip())
    number = str(parsed) if parsed is not None else reference.strip()
    statement = select(CASES).where(CASES.c.tracking_number == number)
    if scope_unit is not None:
        statement = statement.where(CASES.c.unit == scope_unit)
    row = connection.execute(statement).mappings().first()
    return None if row is None else dict(row)


def _thread(connection: Connection, case_id: int, events: Sequence[AuditEntry]) -> list[ThreadEntry]:
    files = _attachments(connection, case_id)
    inbound = [
        ThreadEntry(
            key=f"in-{row.id}",
            message_id=row.id,
            direction="in" if row.direction == "in" else "out",
            channel=row.channel,
            at=row.received_at,
            subject=row.subject,
            text=row.text,
            attachments=files.get(row.id, []),
        )
        for row in connection.execute(select(MESSAGES).where(MESSAGES.c.case_id == case_id).order_by(MESSAGES.c.id))
    ]
    writers = {event.at: event.actor for event in events if not event.action.endswith(("_sent", "_failed", "_retry"))}
    outbound = [
        ThreadEntry(
            key=f"out-{row.id}",
            message_id=row.id,
            direction="out",
            channel=row.channel,
            at=row.created_at,
            subject=row.subject,
            text=row.body,
            officer=writers.get(row.created_at),
            purpose=row.purpose,
            to_reporter=row.purpose != "notice",
            state=row.state,
            delivery=row.delivery_state,
            delivery_at=row.delivery_state_at,
            error=row.delivery_error or row.error,
        )
        for row in connection.execute(select(OUTBOX).where(OUTBOX.c.case_id == case_id).order_by(OUTBOX.c.id))
    ]
    return sorted([*inbound, *outbound], key=lambda entry: (entry.at, entry.direction == "out", entry.message_id))


def _attachments(connection: Connection, case_id: int) -> dict[int, list[AttachmentInfo]]:
    """The files of a case's messages by case message id: stored ones, then fetched media."""
    found: dict[int, list[AttachmentInfo]] = {}
    stored = (
        select(ATTACHMENTS, MESSAGES.c.id.label("message_id"))
        .select_from(ATTACHMENTS.join(MESSAGES, MESSAGES.c.id == ATTACHMENTS.c.case_message_id))
        .where(MESSAGES.c.case_id == case_id)
        .order_by(ATTACHMENTS.c.id)
    )
    for row in connection.execute(stored):
        info = AttachmentInfo(f"a{row.id}", row.filename, row.content_type, row.size, "file", "stored")
        found.setdefault(row.message_id, []).append(info)
    media = (
        select(MEDIA, MESSAGES.c.id.label("message_id"))
        .select_from(MEDIA.join(MESSAGES, MESSAGES.c.raw_message_id == MEDIA.c.raw_message_id))
        .where(MESSAGES.c.case_id == case_id)
        .order_by(MEDIA.c.raw_message_id, MEDIA.c.position)
    )
    for row in connection.execute(media):
        info = AttachmentInfo(f"m{row.id}", row.filename, row.content_type, row.size, row.kind, row.state, row.error)
        found.setdefault(row.message_id, []).append(info)
    return found


def _reporter(connection: Connection, case: Mapping[str, Any]) -> ReporterInfo | None:
    given = case_reporter(connection, case)
    if given is None:
        return None
    reporter_id = int(given["id"])
    return ReporterInfo(
        id=reporter_id,
        name=given["name"],
        email=list(given["email"]),
        phone=list(given["phone"]),
        channel_user=list(given["channel_user"]),
        linked=_linked(connection, reporter_id),
        suggestions=_suggestions(connection, reporter_id),
    )


def _linked(connection: Connection, reporter_id: int) -> list[LinkedReporter]:
    """The links in force that make this reporter one person with others, each with the reporter
    on its other side (for a link between two others of the person: its second side)."""
    rows = identities.links(connection, reporter_id)
    sides = [row["reporter_id"] if row["other_id"] == reporter_id else row["other_id"] for row in rows]
    if not rows:
        return []
    wanted = sorted(set(sides))
    names = dict(connection.execute(select(REPORTER.c.id, REPORTER.c.name).where(REPORTER.c.id.in_(wanted))).all())
    held: dict[int, list[tuple[str, str]]] = {}
    known = select(IDENTITY.c.reporter_id, IDENTITY.c.kind, IDENTITY.c.value).where(IDENTITY.c.reporter_id.in_(wanted))
    for owner, kind, value in connection.execute(known.order_by(IDENTITY.c.id)):
        held.setdefault(owner, []).append((kind, value))
    return [
        LinkedReporter(
            link_id=row["id"],
            reporter_id=other,
            name=names.get(other),
            source=row["source"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            identities=held.get(other, []),
        )
        for row, other in zip(rows, sides, strict=True)
    ]


def _suggestions(connection: Connection, reporter_id: int) -> list[SuggestedLink]:
    """Claims this reporter made of an identity another person holds, and claims others made of
    one this reporter holds, seen from this reporter's side."""
    found = []
    for row in identities.suggestions(connection, about=reporter_id):
        mine = row["reporter_id"] == reporter_id
        found.append(
            SuggestedLink(
                claim_id=row["id"],
                kind=row["kind"],
                value=row["value"],
                other_id=row["other_id"] if mine else row["reporter_id"],
                other_name=row["other_name"] if mine else row["reporter_name"],
                other_cases=row["other_cases"] if mine else row["reporter_cases"],
                created_at=row["created_at"],
            )
        )
    return found


def _deadlines(case: Mapping[str, Any], now: datetime) -> list[DeadlineInfo]:
    stopped = case["paused_at"] is not None or case["closed_at"] is not None
    found = []
    for name in DEADLINES:
        due = case.get(f"{name}_due")
        if due is None:
            continue
        met_at = case.get(MET_BY[name])
        running = met_at is None and not stopped
        found.append(
            DeadlineInfo(
                name=name,
                due=due,
                met_at=met_at,
                running=running,
                left=due - now if running else None,
                overdue=running and due < now,
            )
        )
    return found


def _numbers(connection: Connection, case_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({case_id for case_id in case_ids if case_id is not None})
    if not wanted:
        return {}
    rows = connection.execute(select(CASES.c.id, CASES.c.tracking_number).where(CASES.c.id.in_(wanted)))
    return {int(case_id): str(number) for case_id, number in rows}


def _related(connection: Connection, case_id: int) -> list[str]:
    """Cases merged into or split from this one, or it into them (moves not undone)."""
    rows = connection.execute(
        select(MOVES.c.source_case_id, MOVES.c.target_case_id)
        .where(MOVES.c.undone_at.is_(None), or_(MOVES.c.source_case_id == case_id, MOVES.c.target_case_id == case_id))
        .order_by(MOVES.c.id)
    ).all()
    others = [target if source == case_id else source for source, target in rows]
    numbers = _numbers(connection, others)
    return list(dict.fromkeys(numbers[other] for other in others if other in numbers))


# --- attachments ---------------------------------------------------------------------------------


def attachment(connection: Connection, attachment_id: str, scope_unit: str | None) -> AttachmentFile | None:
    """A downloadable attachment (``AttachmentInfo.id``); None when missing, not fetched, or of a
    case out of scope."""
    prefix, number = attachment_id[:1], attachment_id[1:]
    if prefix not in {"a", "m"} or not number.isdigit() or len(number) > 18:
        return None
    if prefix == "a":
        source = ATTACHMENTS.join(MESSAGES, MESSAGES.c.id == ATTACHMENTS.c.case_message_id)
        table, kept = ATTACHMENTS, ATTACHMENTS.c.id == int(number)
    else:
        source = MEDIA.join(MESSAGES, MESSAGES.c.raw_message_id == MEDIA.c.raw_message_id)
        table, kept = MEDIA, and_(MEDIA.c.id == int(number), MEDIA.c.sha256.is_not(None))
    statement = (
        select(
            table.c.filename,
            table.c.content_type,
            table.c.size,
            table.c.sha256,
            CASES.c.id.label("case_id"),
            CASES.c.tracking_number,
            CASES.c.confidential,
        )
        .select_from(source.join(CASES, CASES.c.id == MESSAGES.c.case_id))
        .where(kept)
    )
    if scope_unit is not None:
        statement = statement.where(CASES.c.unit == scope_unit)
    row = connection.execute(statement).first()
    if row is None:
        return None
    return AttachmentFile(
        id=attachment_id,
        filename=row.filename or attachment_id,
        content_type=row.content_type or "application/octet-stream",
        size=int(row.size or 0),
        sha256=row.sha256,
        case_id=row.case_id,
        tracking_number=row.tracking_number,
        confidential=bool(row.confidential),
    )


def _queue_visits(connection: Connection, case_id: int) -> list[QueueVisit]:
    """The queue numbers of the case's walk-in visits (``visit:<day>:<number>``, connectors/walkin)."""
    visits = []
    keys = connection.execute(
        select(MESSAGES.c.channel_message_id)
        .where(and_(MESSAGES.c.case_id == case_id, MESSAGES.c.channel == "walkin"))
        .order_by(MESSAGES.c.id)
    ).scalars()
    for key in keys:
        kind, _, rest = (key or "").partition(":")
        day, _, number = rest.partition(":")
        if kind != "visit" or not number:
            continue
        number = written(number) or number
        ticket = queue_numbers.ticket_of_day(connection, day, number)
        waited = ticket.called_at - ticket.taken_at if ticket is not None and ticket.called_at else None
        visits.append(QueueVisit(number, day, ticket.counter if ticket is not None else None, waited))
    return visits
