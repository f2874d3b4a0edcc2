"""The outbox: claiming messages to send under a lease, and recording what the provider said.

A claim gives its rows a lease token and an expiry. Only the holder of a live lease writes a
row's outcome (``WHERE state = 'sending' AND lease_token = ?``), and the sweeper takes a row back
only once its lease has lapsed, so a slow send is never sent a second time beside itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from envelopes import OutboundMessage, Recipient
from storage.db import utcnow
from storage.models import OUTBOX_DEAD, OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT
from storage.tables import CASES, MESSAGES, OUTBOX
from storage.threads import caseless_answered_at


@dataclass(frozen=True, slots=True)
class Claimed:
    message: OutboundMessage
    attempts: int
    """Attempts so far, this one included."""
    lease_token: str
    lease_expires_at: datetime


_PENDING = and_(OUTBOX.c.id.in_(bindparam("ids", expanding=True)), OUTBOX.c.state == OUTBOX_PENDING)
_DUE = OUTBOX.c.next_attempt_at <= bindparam("due")
_LOCK_DUE = select(OUTBOX.c.id).where(_PENDING, _DUE).with_for_update(skip_locked=True)


def _take(where: Any) -> Any:
    return (
        update(OUTBOX)
        .where(where)
        .values(
            state=OUTBOX_SENDING,
            attempts=OUTBOX.c.attempts + 1,
            queued_at=bindparam("at"),
            lease_token=bindparam("token"),
            lease_expires_at=bindparam("expires"),
        )
        .returning(OUTBOX)
    )


_TAKE_DUE = _take(and_(_PENDING, _DUE))
_TAKE_PENDING = _take(_PENDING)
"""The claims' statements, built once (a deliver batch claims at every turn)."""


def new_lease_token() -> str:
    return uuid.uuid4().hex


def claim(connection: Connection, ids: Sequence[int], lease: timedelta, token: str | None = None) -> list[Claimed]:
    """Take pending, due messages for sending under a lease of ``lease``, so that no other worker
    sends them too. On PostgreSQL rows another transaction holds (a competing worker's claim, the
    sweeper) are skipped rather than waited for: whoever holds them sends them. ``token`` names
    the lease; a caller that makes it can ``release`` a claim whose commit was in doubt."""
    if not ids:
        return []
    now = utcnow()
    token, expires = token or new_lease_token(), now + lease
    taking = {"at": now, "token": token, "expires": expires}
    if connection.dialect.name == "postgresql":
        # Lock first, in a statement of its own: as a sub-select of the UPDATE, PostgreSQL planned
        # a semi-join that scanned the whole outbox for every claim (46 % of its busy time).
        free = list(connection.scalars(_LOCK_DUE, {"ids": list(ids), "due": now}))
        if not free:
            return []
        rows = connection.execute(_TAKE_PENDING, {"ids": free, **taking}).mappings()
    else:
        rows = connection.execute(_TAKE_DUE, {"ids": list(ids), "due": now, **taking}).mappings()
    claimed = list(rows)
    facts = _case_facts(connection, [row for row in claimed if row["case_id"] is not None])
    answering = caseless_answered_at(connection, [row for row in claimed if row["case_id"] is None])
    return [Claimed(_outbound(row, facts, answering), row["attempts"], token, expires) for row in claimed]


_RELEASE = (
    update(OUTBOX)
    .where(OUTBOX.c.lease_token.in_(bindparam("tokens", expanding=True)), OUTBOX.c.state == OUTBOX_SENDING)
    .values(state=OUTBOX_PENDING, attempts=OUTBOX.c.attempts - 1, lease_token=None, lease_expires_at=None)
    .returning(OUTBOX.c.id)
)


def release(connection: Connection, tokens: Sequence[str]) -> list[int]:
    """Give back, unsent and with the attempt uncounted, the rows still held under ``tokens``:
    claims whose commit the database may have applied while its answer was lost. Without this
    they would wait for their lease to lapse and the sweeper to take them back."""
    if not tokens:
        return []
    return list(connection.scalars(_RELEASE, {"tokens": list(tokens)}))


@dataclass(frozen=True, slots=True)
class _Facts:
    tracking_number: str | None = None
    case_status: str | None = None
    last_inbound_at: datetime | None = None


_CASES_CLAIMED = select(CASES.c.id, CASES.c.tracking_number, CASES.c.status, CASES.c.reporter_id).where(
    CASES.c.id.in_(bindparam("ids", expanding=True))
)
_INBOUND = and_(MESSAGES.c.direction == "in", MESSAGES.c.channel.in_(bindparam("channels", expanding=True)))
_NEWEST = func.max(MESSAGES.c.received_at)
_LAST_BY_REPORTER = (
    select(CASES.c.reporter_id, MESSAGES.c.channel, _NEWEST)
    .select_from(MESSAGES.join(CASES, CASES.c.id == MESSAGES.c.case_id))
    .where(_INBOUND, CASES.c.reporter_id.in_(bindparam("reporters", expanding=True)))
    .group_by(CASES.c.reporter_id, MESSAGES.c.channel)
)
_LAST_BY_CASE = (
    select(MESSAGES.c.case_id, MESSAGES.c.channel, _NEWEST)
    .where(_INBOUND, MESSAGES.c.case_id.in_(bindparam("cases", expanding=True)))
    .group_by(MESSAGES.c.case_id, MESSAGES.c.channel)
)
"""``_case_facts``' statements, built once."""


def _case_facts(connection: Connection, rows: Sequence[Any]) -> dict[tuple[int, str], _Facts]:
    """For each claimed (case, channel): the case's tracking number and status, and when its
    reporter last wrote on that channel, in any of their cases (a chat channel's reply window
    runs from the person's last message). Two or three small statements per claim, each on an
    index: never an OR across tables, which would scan ``case_message``."""
    if not rows:
        return {}
    case_ids = sorted({row["case_id"] for row in rows})
    channels = sorted({row["channel"] for row in rows})
    cases = {c.id: c for c in connection.execute(_CASES_CLAIMED, {"ids": case_ids})}
    reporters = sorted({c.reporter_id for c in cases.values() if c.reporter_id is not None})
    by_reporter: dict[tuple[int, str], datetime] = {}
    if reporters:
        found = connection.execute(_LAST_BY_REPORTER, {"channels": channels, "reporters": reporters})
        by_reporter = {(r[0], r[1]): r[2] for r in found if r[2] is not None}
    loose = [case_id for case_id, c in cases.items() if c.reporter_id is None]
    by_case: dict[tuple[int, str], datetime] = {}
    if loose:
        found = connection.execute(_LAST_BY_CASE, {"channels": channels, "cases": loose})
        by_case = {(r[0], r[1]): r[2] for r in found if r[2] is not None}
    facts: dict[tuple[int, str], _Facts] = {}
    for row in rows:
        case = cases.get(row["case_id"])
        if case is None:
            continue
        last = (
            by_reporter.get((case.reporter_id, row["channel"]))
            if case.reporter_id is not None
            else by_case.get((case.id, row["channel"]))
        )
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        facts[(case.id, row["channel"])] = _Facts(case.tracking_number, case.status, last)
    return facts


def _outbound(row: Any, facts: dict[tuple[int, str], _Facts], answering: dict[int, datetime]) -> OutboundMessage:
    known = facts.get((row["case_id"], row["channel"]), _Facts(last_inbound_at=answering.get(row["id"])))
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
        last_inbound_at=known.last_inbound_at,
        tracking_number=known.tracking_number,
        case_status=known.case_status,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed message."""

    outbox_id: int
    lease_token: str
    state: str
    provider_message_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None


def sent(claimed: Claimed, provider_message_id: str) -> Outcome:
    return Outcome(claimed.message.outbox_id, claimed.lease_token, OUTBOX_SENT, provider_message_id=provider_message_id)


def retry_later(claimed: Claimed, error: str, delay: timedelta) -> Outcome:
    return Outcome(
        claimed.message.outbox_id, claimed.lease_token, OUTBOX_PENDING, error=error, retry_at=utcnow() + delay
    )


def dead(claimed: Claimed, error: str) -> Outcome:
    return Outcome(claimed.message.outbox_id, claimed.lease_token, OUTBOX_DEAD, error=error)


_RECORD_OUTCOME = (
    update(OUTBOX)
    .where(
        and_(
            OUTBOX.c.id == bindparam("o_id"),
            OUTBOX.c.state == OUTBOX_SENDING,
            OUTBOX.c.lease_token == bindparam("o_token"),
        )
    )
    .values(
        state=bindparam("o_state"),
        provider_message_id=bindparam("o_provider"),
        error=bindparam("o_error"),
        sent_at=bindparam("o_sent_at"),
        next_attempt_at=bindparam("o_next"),
        queued_at=bindparam("o_queued"),
        lease_expires_at=None,
    )
)
"""Built once, not for every group of outcomes."""


def record_outcomes(connection: Connection, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Write what each send gave, for the rows still claimed under the outcome's lease token;
    returns the outcomes written (a row whose lease lapsed and was taken back is not ours).

    One guarded update writes them all. The token stays on a row after its outcome (the state
    says the lease is over), so in the rare case the update changed fewer rows than it was given,
    one look tells which were ours: those that left ``sending`` under our token.
    """
    if not outcomes:
        return []
    now = utcnow()
    rows = [
        {
            "o_id": o.outbox_id,
            "o_token": o.lease_token,
            "o_state": o.state,
            "o_provider": o.provider_message_id,
            "o_error": o.error[:4000] if o.error else None,
            "o_sent_at": now if o.state == OUTBOX_SENT else None,
            "o_next": o.retry_at or now,
            "o_queued": now,
        }
        for o in outcomes
    ]
    changed = connection.execute(_RECORD_OUTCOME, rows).rowcount
    if changed == len(outcomes):
        return list(outcomes)
    left = select(OUTBOX.c.id, OUTBOX.c.lease_token).where(
        and_(OUTBOX.c.id.in_([o.outbox_id for o in outcomes]), OUTBOX.c.state != OUTBOX_SENDING)
    )
    written = {(row.id, row.lease_token) for row in connection.execute(left)}
    return [o for o in outcomes if (o.outbox_id, o.lease_token) in written]
