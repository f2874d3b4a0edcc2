"""The outbox: claiming messages to send and recording what the provider said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, update

from envelopes import OutboundMessage, Recipient
from storage.db import utcnow
from storage.models import OUTBOX_DEAD, OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT
from storage.tables import OUTBOX


@dataclass(frozen=True, slots=True)
class Claimed:
    message: OutboundMessage
    attempts: int
    """Attempts so far, this one included."""


def claim(connection: Connection, ids: Sequence[int]) -> list[Claimed]:
    """Take pending, due messages for sending, so that no other worker sends them too."""
    if not ids:
        return []
    now = utcnow()
    rows = connection.execute(
        update(OUTBOX)
        .where(and_(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.state == OUTBOX_PENDING, OUTBOX.c.next_attempt_at <= now))
        .values(state=OUTBOX_SENDING, attempts=OUTBOX.c.attempts + 1, queued_at=now)
        .returning(OUTBOX)
    ).mappings()
    return [Claimed(_outbound(row), row["attempts"]) for row in rows]


def _outbound(row: Any) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=row["id"],
        case_id=row["case_id"],
        channel=row["channel"],
        purpose=row["purpose"],
        idempotency_key=row["idempotency_key"],
        recipient=Recipient.model_validate(row["recipient"]),
        subject=row["subject"],
        text=row["body"],
        in_reply_to=row["in_reply_to"],
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed message."""

    outbox_id: int
    state: str
    provider_message_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None


def sent(outbox_id: int, provider_message_id: str) -> Outcome:
    return Outcome(outbox_id, OUTBOX_SENT, provider_message_id=provider_message_id)


def retry_later(outbox_id: int, error: str, delay: timedelta) -> Outcome:
    return Outcome(outbox_id, OUTBOX_PENDING, error=error, retry_at=utcnow() + delay)


def dead(outbox_id: int, error: str) -> Outcome:
    return Outcome(outbox_id, OUTBOX_DEAD, error=error)


def record_outcomes(connection: Connection, outcomes: Sequence[Outcome]) -> None:
    """Write what each send gave; only messages still being sent by us are changed."""
    if not outcomes:
        return
    now = utcnow()
    rows = [
        {
            "o_id": o.outbox_id,
            "o_state": o.state,
            "o_provider": o.provider_message_id,
            "o_error": o.error[:4000] if o.error else None,
            "o_sent_at": now if o.state == OUTBOX_SENT else None,
            "o_next": o.retry_at or now,
        }
        for o in outcomes
    ]
    connection.execute(
        update(OUTBOX)
        .where(and_(OUTBOX.c.id == bindparam("o_id"), OUTBOX.c.state == OUTBOX_SENDING))
        .values(
            state=bindparam("o_state"),
            provider_message_id=bindparam("o_provider"),
            error=bindparam("o_error"),
            sent_at=bindparam("o_sent_at"),
            next_attempt_at=bindparam("o_next"),
            queued_at=now,
        ),
        rows,
    )
