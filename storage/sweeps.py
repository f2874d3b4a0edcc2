"""Finding work that waited too long in a state, for the sweeper to publish again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Select, and_, func, or_, select, update

from envelopes import Addressed, work_items
from storage.db import utcnow
from storage.models import (
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    RAW_NORMALIZED,
    RAW_RECEIVED,
    RAW_TRIAGED,
)
from storage.tables import OUTBOX, RAW

NOT_QUEUED = datetime(1970, 1, 1, tzinfo=UTC)
"""``queued_at`` of a row whose work item was never published: every sweep finds it stale."""


def leave_to_sweeper(connection: Connection, raw_ids: Sequence[int]) -> None:
    """Mark stored messages as never queued, for a writer that cannot reach the pipeline's queue
    (``memory://`` lives inside the running ``satupintu run``): its next sweep publishes them."""
    if raw_ids:
        connection.execute(update(RAW).where(RAW.c.id.in_(list(raw_ids))).values(queued_at=NOT_QUEUED))


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Work published before its step's cutoff and still not done is stale."""

    normalize: datetime
    triage: datetime
    deliver: datetime

    @classmethod
    def every(cls, cutoff: datetime) -> Cutoffs:
        return cls(cutoff, cutoff, cutoff)


@dataclass(frozen=True, slots=True)
class Stale:
    record: str
    id: int
    channel: str
    state: str


def take_stale(connection: Connection, cutoffs: Cutoffs, limit: int) -> list[Stale]:
    """Rows whose work item was published before their step's cutoff and not done; marks them
    re-queued now.

    Outbox rows also come back when a retry falls due, and a row left in "sending" goes back to
    pending once its lease has lapsed (its worker died, or lost the database for longer): never
    while the lease is live, however slow the send. Each UPDATE repeats its condition, so a row
    that moved on between the look and the change (sent, just now) is left alone. On PostgreSQL
    the look skips rows other transactions hold: a competing sweeper, a stage writing them.
    """
    now = utcnow()
    raw_waiting = or_(
        and_(RAW.c.state == RAW_RECEIVED, RAW.c.queued_at < cutoffs.normalize),
        and_(RAW.c.state == RAW_NORMALIZED, RAW.c.queued_at < cutoffs.triage),
    )
    raw_ids = _take(
        connection,
        select(RAW.c.id)
        .where(
            RAW.c.state.in_([RAW_RECEIVED, RAW_NORMALIZED]),
            RAW.c.queued_at < max(cutoffs.normalize, cutoffs.triage),
            raw_waiting,
        )
        .order_by(RAW.c.id)
        .limit(limit),
    )
    due = and_(
        OUTBOX.c.state == OUTBOX_PENDING,
        OUTBOX.c.next_attempt_at <= now,
        or_(OUTBOX.c.queued_at < cutoffs.deliver, OUTBOX.c.next_attempt_at > OUTBOX.c.queued_at),
    )
    lapsed = and_(
        OUTBOX.c.state == OUTBOX_SENDING,
        or_(
            OUTBOX.c.lease_expires_at < now,
            and_(OUTBOX.c.lease_expires_at.is_(None), OUTBOX.c.queued_at < cutoffs.deliver),  # claimed before leases
        ),
    )
    outbox_ids = _take(connection, select(OUTBOX.c.id).where(or_(due, lapsed)).order_by(OUTBOX.c.id).limit(limit))
    stale: list[Stale] = []
    if raw_ids:
        changed = connection.execute(
            update(RAW)
            .where(and_(RAW.c.id.in_(raw_ids), raw_waiting))
            .values(queued_at=now)
            .returning(RAW.c.id, RAW.c.channel, RAW.c.state)
        )
        stale += [Stale("raw_message", r.id, r.channel, r.state) for r in changed]
    if outbox_ids:
        again = connection.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id.in_(outbox_ids), due))
            .values(queued_at=now, next_attempt_at=now)
            .returning(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.state)
        ).all()
        taken_back = connection.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id.in_(outbox_ids), lapsed))
            .values(state=OUTBOX_PENDING, queued_at=now, next_attempt_at=now, lease_token=None, lease_expires_at=None)
            .returning(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.state)
        ).all()
        stale += [Stale("outbox", r.id, r.channel, r.state) for r in [*again, *taken_back]]
    return stale


def unfinished_beyond(connection: Connection, raw_ids: Sequence[int], step_state: str) -> list[Stale]:
    """What is still to do for ``raw_ids`` past the state ``step_state``: the work a stage would have
    published had it known its transaction committed. A commit can reach the database while the
    connection breaks before the answer comes back; the stage retries, finds those messages no
    longer in ``step_state``, skips them, and without this their next step waits for the sweeper.
    Publishing it twice is harmless: every step takes only rows still waiting for it."""
    if not raw_ids:
        return []
    later = [RAW_NORMALIZED] if step_state == RAW_RECEIVED else []  # the raw states after ``step_state``
    ids = list(raw_ids)
    raw = connection.execute(
        select(RAW.c.id, RAW.c.channel, RAW.c.state).where(RAW.c.id.in_(ids), RAW.c.state.in_(later))
    ).all()
    cases = select(RAW.c.case_id).where(RAW.c.id.in_(ids), RAW.c.state == RAW_TRIAGED, RAW.c.case_id.is_not(None))
    receipts = connection.execute(
        select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.state).where(
            OUTBOX.c.case_id.in_(cases), OUTBOX.c.state == OUTBOX_PENDING, OUTBOX.c.next_attempt_at <= utcnow()
        )
    ).all()
    return [Stale("raw_message", r.id, r.channel, r.state) for r in raw] + [
        Stale("outbox", r.id, r.channel, r.state) for r in receipts
    ]


def work_of(stale: Sequence[Stale]) -> list[Addressed]:
    """The work items that take ``stale`` rows on: outbox rows to deliver, raw messages to their step."""
    deliver = [(s.id, s.channel) for s in stale if s.record == "outbox"]
    normalize = [(s.id, s.channel) for s in stale if s.record == "raw_message" and s.state == RAW_RECEIVED]
    triage = [(s.id, s.channel) for s in stale if s.record == "raw_message" and s.state != RAW_RECEIVED]
    return [
        *work_items("deliver", "outbox", deliver),
        *work_items("normalize", "raw_message", normalize),
        *work_items("triage", "raw_message", triage),
    ]


def _take(connection: Connection, query: Select[tuple[int]]) -> list[int]:
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(connection.scalars(query))


def count_unfinished(connection: Connection) -> dict[tuple[str, str], int]:
    """Rows still to be worked on, per record and state (every state listed, zero included).
    The sweeper's partial indexes hold exactly these rows, so counting them stays cheap."""
    counts = {("raw_message", s): 0 for s in (RAW_RECEIVED, RAW_NORMALIZED)}
    counts |= {("outbox", s): 0 for s in (OUTBOX_PENDING, OUTBOX_SENDING)}
    queries = (
        (
            "raw_message",
            select(RAW.c.state, func.count())
            .where(RAW.c.state.in_([RAW_RECEIVED, RAW_NORMALIZED]))
            .group_by(RAW.c.state),
        ),
        (
            "outbox",
            select(OUTBOX.c.state, func.count())
            .where(OUTBOX.c.state.in_([OUTBOX_PENDING, OUTBOX_SENDING]))
            .group_by(OUTBOX.c.state),
        ),
    )
    for record, query in queries:
        for state, number in connection.execute(query):
            counts[(record, state)] = number
    return counts


def take_never_queued(connection: Connection, limit: int) -> list[tuple[int, str, str]]:
    """Up to ``limit`` unfinished raw messages marked never queued, as ``(id, channel, state)``;
    marks them queued now. The predicate is the sweeper's partial index's, so this stays cheap."""
    rows = connection.execute(
        select(RAW.c.id, RAW.c.channel, RAW.c.state)
        .where(RAW.c.state.in_([RAW_RECEIVED, RAW_NORMALIZED]), RAW.c.queued_at == NOT_QUEUED)
        .order_by(RAW.c.id)
        .limit(limit)
    ).all()
    if rows:
        connection.execute(update(RAW).where(RAW.c.id.in_([r.id for r in rows])).values(queued_at=utcnow()))
    return [(r.id, r.channel, r.state) for r in rows]
