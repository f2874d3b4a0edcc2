"""The public status lookup: a case, by its tracking number, for a person who can name its reporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, and_, case, exists, literal, or_, select

from storage.tables import CASES, OUTBOX, RAW, UNITS

KINDS = ("email", "phone")
"""The contacts a reporter can look a case up by; any other kind matches nothing."""


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """What a reporter may learn of their own case: where it stands and what is due next."""

    tracking_number: str
    kind: str
    status: str
    confidential: bool
    unit_name: str
    received_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    closed_at: datetime | None
    external_ref: str | None = None
    """The report's tracking ID on SP4N-LAPOR!, shown beside ours."""


def case_for_reporter(connection: Connection, tracking_number: str, kind: str, value: str) -> CaseStatus | None:
    """The case with this tracking number one of whose own messages gave the identity
    ``(kind, value)`` (``email`` in lower case, or ``phone`` in E.164, as the normalizer keeps
    them), whatever channel it came by; else None.

    Not any identity linked to the case's reporter: a phone shared by two people links them, and
    one must not look up the other's case with their own email. One statement whatever is wrong
    (the number, the identity, both; the kind is a parameter too, an unknown one matching
    nothing), so that a wrong pair and an unknown number cost the same: the unique tracking number
    finds at most one case, and its few messages are read by ``raw_message.case_id``.
    """
    wanted = literal(kind, String)
    given = case(*((wanted == known, RAW.c.normalized[("reporter", known)].as_string()) for known in KINDS))
    own_message = exists().where(RAW.c.case_id == CASES.c.id, given == value)
    row = connection.execute(
        select(
            CASES.c.tracking_number,
            CASES.c.kind,
            CASES.c.status,
            CASES.c.confidential,
            UNITS.c.name.label("unit_name"),
            CASES.c.received_at,
            CASES.c.first_response_due,
            CASES.c.resolution_due,
            CASES.c.closed_at,
            CASES.c.external_ref,
        )
        .select_from(CASES.join(UNITS, UNITS.c.key == CASES.c.unit))
        .where(CASES.c.tracking_number == tracking_number, own_message)
    ).one_or_none()
    return None if row is None else CaseStatus(**row._mapping)


def messages_to_report(connection: Connection, channel: str, raw_id: int) -> list[dict[str, Any]]:
    """Every message written to the reporter of the inbound message ``raw_id`` on its own
    ``channel``, oldest first: its case's receipt, replies, requests, follow-up report and survey
    link, or the answer to a message kept without a case. A one-way channel (the web form) shows
    them on its status resource, which is their delivery there. Each row: purpose, subject, body,
    created_at, receipt_state, sent_at, provider_message_id, recipient."""
    case_id = select(RAW.c.case_id).where(and_(RAW.c.id == raw_id, RAW.c.channel == channel)).scalar_subquery()
    answers = [f"greeting:raw:{raw_id}", f"status:raw:{raw_id}"]
    rows = connection.execute(
        select(
            OUTBOX.c.purpose,
            OUTBOX.c.subject,
            OUTBOX.c.body,
            OUTBOX.c.created_at,
            OUTBOX.c.state.label("receipt_state"),
            OUTBOX.c.sent_at,
            OUTBOX.c.provider_message_id,
            OUTBOX.c.recipient,
        )
        .where(
            OUTBOX.c.channel == channel,
            or_(OUTBOX.c.case_id == case_id, and_(OUTBOX.c.case_id.is_(None), OUTBOX.c.idempotency_key.in_(answers))),
        )
        .order_by(OUTBOX.c.id)
    )
    return [dict(row) for row in rows.mappings()]
