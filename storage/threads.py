"""The reads threading makes (which case a message names, by conversation, reply or tracking
number) and the messages kept without a case. Every lookup takes the whole batch at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, desc, func, or_, select, text, update

from storage.db import utcnow
from storage.identities import CLAIMS, persons
from storage.models import CaselessMessage
from storage.sql import keyed_in
from storage.status import CaseStatus
from storage.tables import CASES, IDENTITY, MESSAGES, OUTBOX, RAW, REPORTER, UNITS

CASELESS: Table = CaselessMessage.__table__  # type: ignore[attr-defined]

MAX_MERGE_HOPS = 8
"""A merged case points at the case it went into; a chain longer than this is not followed."""


@dataclass(frozen=True, slots=True)
class CaseRef:
    """What threading needs to know of a case: whose it is and whether it is still open."""

    id: int
    reporter_id: int | None
    conversation_key: str
    tracking_number: str
    closed: bool
    merged_into_id: int | None


_REF_COLUMNS = (
    CASES.c.id,
    CASES.c.reporter_id,
    CASES.c.conversation_key,
    CASES.c.tracking_number,
    CASES.c.closed_at,
    CASES.c.merged_into_id,
)


def _ref(row: Any) -> CaseRef:
    return CaseRef(
        id=row.id,
        reporter_id=row.reporter_id,
        conversation_key=row.conversation_key,
        tracking_number=row.tracking_number,
        closed=row.closed_at is not None,
        merged_into_id=row.merged_into_id,
    )


LOCK_BASE = 0x5A7E_0000
LOCK_BUCKETS = 4096
"""Advisory lock ids ``LOCK_BASE`` to ``LOCK_BASE + LOCK_BUCKETS - 1`` are this module's."""


def serialise_conversations(connection: Connection, keys: Iterable[str]) -> None:
    """On PostgreSQL, transaction locks on the conversations' buckets, taken in one order by every
    triage worker: of two workers with parts of one burst, the second waits for the first's case
    and joins it, instead of failing on the one-open-case index. SQLite writes one at a time."""
    if connection.dialect.name != "postgresql":
        return
    buckets = sorted({LOCK_BASE + _bucket(key) for key in keys})
    if buckets:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:buckets AS BIGINT[])) AS k"), {"buckets": buckets}
        )


def _bucket(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % LOCK_BUCKETS


def open_by_conversation(connection: Connection, keys: Iterable[str]) -> dict[str, CaseRef]:
    """The open case of each conversation key (at most one each: a unique index says so)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = connection.execute(_OPEN_BY_CONVERSATION, {"keys": wanted})
    return {row.conversation_key: _ref(row) for row in rows}


_OPEN_BY_CONVERSATION = select(*_REF_COLUMNS).where(
    CASES.c.conversation_key.in_(bindparam("keys", expanding=True)), CASES.c.closed_at.is_(None)
)


def latest_closed_by_conversation(connection: Connection, keys: Iterable[str]) -> dict[str, CaseRef]:
    """The newest closed case of each conversation key: the one a new case there follows."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    return {row.conversation_key: _ref(row) for row in connection.execute(_LATEST_CLOSED, {"keys": wanted})}


_LATEST_CLOSED = select(*_REF_COLUMNS).where(
    CASES.c.id.in_(
        select(func.max(CASES.c.id))
        .where(CASES.c.conversation_key.in_(bindparam("keys", expanding=True)), CASES.c.closed_at.is_not(None))
        .group_by(CASES.c.conversation_key)
    )
)


def by_tracking_number(connection: Connection, numbers: Iterable[str]) -> dict[str, CaseRef]:
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    rows = connection.execute(select(*_REF_COLUMNS).where(CASES.c.tracking_number.in_(wanted)))
    return {row.tracking_number: _ref(row) for row in rows}


def by_id(connection: Connection, ids: Iterable[int]) -> dict[int, CaseRef]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: _ref(row) for row in connection.execute(select(*_REF_COLUMNS).where(CASES.c.id.in_(wanted)))}


@dataclass(frozen=True, slots=True)
class Replied:
    """What a reply answers: a message of ``case_id``; ``sent_to`` the email address we sent it
    to, when it is one we sent by email (an answer from there proves the address)."""

    case_id: int
    sent_to: str | None = None


def replied_to(connection: Connection, ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Replied]:
    """The case of each ``(channel, message id)`` a message answers: one of the case's own
    messages (its channel message id) or one we sent for it (the provider's message id)."""
    wanted = set(ids)
    if not wanted:
        return {}
    found: dict[tuple[str, str], Replied] = {}
    ours = select(OUTBOX.c.channel, OUTBOX.c.provider_message_id, OUTBOX.c.case_id, OUTBOX.c.recipient).where(
        keyed_in(OUTBOX, "channel", "provider_message_id", wanted), OUTBOX.c.case_id.is_not(None)
    )
    for channel, message_id, case_id, recipient in connection.execute(ours):
        email = (json.loads(recipient) if isinstance(recipient, str) else recipient or {}).get("email")
        found[(channel, message_id)] = Replied(case_id, email)
    theirs = select(MESSAGES.c.channel, MESSAGES.c.channel_message_id, MESSAGES.c.case_id).where(
        keyed_in(MESSAGES, "channel", "channel_message_id", wanted)
    )
    for channel, message_id, case_id in connection.execute(theirs):
        found.setdefault((channel, message_id), Replied(case_id))
    return found


def follow_merges(connection: Connection, refs: dict[int, CaseRef]) -> dict[int, CaseRef]:
    """Each case as it stands now: a merged case is replaced by the case it was merged into."""
    known = dict(refs)
    for _ in range(MAX_MERGE_HOPS):
        missing = {r.merged_into_id for r in known.values() if r.merged_into_id and r.merged_into_id not in known}
        if not missing:
            break
        known.update(by_id(connection, missing))

    def final(ref: CaseRef) -> CaseRef:
        for _ in range(MAX_MERGE_HOPS):
            if ref.merged_into_id is None or ref.merged_into_id not in known:
                return ref
            ref = known[ref.merged_into_id]
        return ref

    return {case_id: final(ref) for case_id, ref in refs.items()}


@dataclass(frozen=True, slots=True)
class Recent:
    """A case opened lately, with the text and the sender of the message that opened it."""

    case: CaseRef
    received_at: datetime
    text: str
    record: dict[str, Any]
    """The opening message as normalized (who it was from, what it asked)."""


def _recent_openings_statement() -> Any:
    them, everyone = REPORTER.alias("them"), REPORTER.alias("everyone")
    wanted: Any = bindparam("wanted", expanding=True)
    their_persons = select(func.coalesce(them.c.person_id, them.c.id)).where(them.c.id.in_(wanted))
    group = select(everyone.c.id).where(func.coalesce(everyone.c.person_id, everyone.c.id).in_(their_persons))
    same_identity = and_(CLAIMS.c.kind == IDENTITY.c.kind, CLAIMS.c.value == IDENTITY.c.value)
    claimed = select(IDENTITY.c.reporter_id).join(CLAIMS, same_identity).where(CLAIMS.c.reporter_id.in_(wanted))
    claimants = select(CLAIMS.c.reporter_id).join(IDENTITY, same_identity).where(IDENTITY.c.reporter_id.in_(wanted))
    inbound = MESSAGES.alias("inbound")
    first = (
        select(func.min(inbound.c.id))
        .where(inbound.c.case_id == CASES.c.id, inbound.c.direction == "in")
        .correlate(CASES)
        .scalar_subquery()
    )
    return (
        select(*_REF_COLUMNS, CASES.c.received_at, MESSAGES.c.text, RAW.c.normalized)
        .select_from(CASES.join(MESSAGES, MESSAGES.c.id == first).join(RAW, RAW.c.id == MESSAGES.c.raw_message_id))
        .where(
            CASES.c.received_at >= bindparam("since"),
            CASES.c.closed_at.is_(None),
            or_(CASES.c.reporter_id.in_(group), CASES.c.reporter_id.in_(claimed), CASES.c.reporter_id.in_(claimants)),
        )
    )


_RECENT_OPENINGS = _recent_openings_statement()
"""Built once: building it anew took as long as running it (triage runs it every batch)."""


def recent_openings(connection: Connection, reporter_ids: Iterable[int], since: datetime) -> list[Recent]:
    """The open cases opened since ``since`` by these reporters, by the reporters linked to them,
    or by reporters who gave one of their identities (a double click on the web form makes two
    reporters of one typed address), with their opening text."""
    wanted = sorted(set(reporter_ids))
    if not wanted:
        return []
    rows = connection.execute(_RECENT_OPENINGS, {"wanted": wanted, "since": since})
    return [Recent(_ref(row), row.received_at, row.text, row.normalized or {}) for row in rows]


# --- messages kept without a case ---------------------------------------------------------------


def insert_caseless(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        now = utcnow()
        connection.execute(CASELESS.insert(), [{"created_at": now, **row} for row in rows])


def greeted_since(connection: Connection, keys: Iterable[str], since: datetime) -> set[str]:
    """The conversations that got a greeting since ``since``: one greeting per burst."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    return set(connection.scalars(_GREETED_SINCE, {"keys": wanted, "since": since}))


_GREETED_SINCE = (
    select(CASELESS.c.conversation_key)
    .where(
        CASELESS.c.conversation_key.in_(bindparam("keys", expanding=True)),
        CASELESS.c.answer == "greeting",
        CASELESS.c.received_at >= bindparam("since"),
    )
    .distinct()
)


@dataclass(frozen=True, slots=True)
class Loose:
    """A message kept without a case that a case opening on its conversation may pull in."""

    id: int
    raw_message_id: int
    received_at: datetime


MAX_CHAIN = 50
"""A burst is at most this many messages kept without a case before the one that opens a case."""


def loose_before(
    connection: Connection, wanted: Sequence[tuple[str, int | None, datetime]], window_seconds: float
) -> list[list[Loose]]:
    """For each ``(key, reporter_id, before)``: the reporter's messages without a case (nothing
    to act on) on ``key`` that came just before ``before``, each within the window of the next,
    newest first, up to the first gap. One statement for the whole batch."""
    if not wanted:
        return []
    earliest = min(before for _, _, before in wanted) - timedelta(seconds=window_seconds * MAX_CHAIN)
    keys = sorted({key for key, _, _ in wanted})
    rows = connection.execute(_LOOSE, {"keys": keys, "earliest": earliest}).all()
    chains: list[list[Loose]] = []
    for key, reporter_id, before in wanted:
        chain: list[Loose] = []
        edge = before
        for row in rows:
            if row.conversation_key != key or row.reporter_id != reporter_id or row.received_at > before:
                continue
            if (edge - row.received_at).total_seconds() > window_seconds or len(chain) == MAX_CHAIN:
                break
            chain.append(Loose(row.id, row.raw_message_id, row.received_at))
            edge = row.received_at
        chains.append(chain)
    return chains


_LOOSE = (
    select(
        CASELESS.c.id,
        CASELESS.c.raw_message_id,
        CASELESS.c.received_at,
        CASELESS.c.conversation_key,
        CASELESS.c.reporter_id,
    )
    .where(
        CASELESS.c.conversation_key.in_(bindparam("keys", expanding=True)),
        CASELESS.c.reason == "nothing",
        CASELESS.c.case_id.is_(None),
        CASELESS.c.received_at >= bindparam("earliest"),
    )
    .order_by(desc(CASELESS.c.received_at))
)


def caseless_ids_of(connection: Connection, raw_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(raw_ids))
    if not wanted:
        return []
    return list(connection.scalars(select(CASELESS.c.id).where(CASELESS.c.raw_message_id.in_(wanted))))


def give_case(connection: Connection, caseless_ids: Sequence[int], case_id: int, actor: str) -> list[int]:
    """Attach messages kept without a case to ``case_id`` (those still without one); returns
    the raw message ids attached, whose ``raw_message.case_id`` now names the case too."""
    if not caseless_ids:
        return []
    taken = connection.execute(
        update(CASELESS)
        .where(CASELESS.c.id.in_(list(caseless_ids)), CASELESS.c.case_id.is_(None))
        .values(
            case_id=case_id,
            handled_by=func.coalesce(CASELESS.c.handled_by, actor),
            handled_at=func.coalesce(CASELESS.c.handled_at, utcnow()),
        )
        .returning(CASELESS.c.raw_message_id)
    ).scalars()
    raw_ids = sorted(taken)
    if raw_ids:
        connection.execute(update(RAW).where(RAW.c.id.in_(raw_ids)).values(case_id=case_id))
    return raw_ids


def normalized_records(connection: Connection, raw_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The normalized records of messages already triaged (kept without a case until now)."""
    wanted = sorted(set(raw_ids))
    if not wanted:
        return []
    rows = connection.execute(select(RAW.c.normalized).where(RAW.c.id.in_(wanted)).order_by(RAW.c.id))
    return [row.normalized for row in rows if row.normalized is not None]


def list_caseless(connection: Connection, *, include_handled: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first: the messages kept without a case (and, with ``include_handled``, those that
    got one since)."""
    statement = (
        select(
            CASELESS.c.id,
            CASELESS.c.raw_message_id,
            CASELESS.c.channel,
            CASELESS.c.reason,
            CASELESS.c.answer,
            CASELESS.c.subject,
            CASELESS.c.text,
            CASELESS.c.received_at,
            CASELESS.c.case_id,
            CASES.c.tracking_number,
            CASELESS.c.handled_by,
        )
        .select_from(CASELESS.outerjoin(CASES, CASES.c.id == CASELESS.c.case_id))
        .order_by(CASELESS.c.id.desc())
        .limit(limit)
    )
    if not include_handled:
        statement = statement.where(CASELESS.c.case_id.is_(None))
    return [dict(row) for row in connection.execute(statement).mappings()]


def find_caseless(connection: Connection, caseless_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(CASELESS).where(CASELESS.c.id == caseless_id)).mappings().first()
    return None if row is None else dict(row)


def caseless_answered_at(connection: Connection, outbox_rows: Sequence[Any]) -> dict[int, datetime]:
    """For outbox rows without a case (a greeting, a status answer): when the message they answer
    came, by outbox id. A chat channel's reply window runs from it."""
    wanted = {row["id"]: (row["recipient"] or {}).get("raw_message_id") for row in outbox_rows}
    raw_ids = sorted({raw_id for raw_id in wanted.values() if raw_id is not None})
    if not raw_ids:
        return {}
    rows = connection.execute(
        select(CASELESS.c.raw_message_id, CASELESS.c.received_at).where(CASELESS.c.raw_message_id.in_(raw_ids))
    )
    came = {row.raw_message_id: row.received_at for row in rows}
    return {outbox_id: came[raw_id] for outbox_id, raw_id in wanted.items() if raw_id in came}


# --- status commands ----------------------------------------------------------------------------


def status_for_reporter(connection: Connection, tracking_number: str, reporter_id: int | None) -> CaseStatus | None:
    """The case with this tracking number when ``reporter_id`` is its reporter or linked to them
    (one person); a merged case answers as the case it went into. Else None, the same as for a
    number nobody has."""
    if reporter_id is None:
        return None
    found = by_tracking_number(connection, [tracking_number]).get(tracking_number)
    if found is None or found.reporter_id is None:
        return None
    person = persons(connection, [reporter_id, found.reporter_id])
    if person.get(found.reporter_id) != person.get(reporter_id):
        return None
    final = follow_merges(connection, {found.id: found})[found.id]
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
        )
        .select_from(CASES.join(UNITS, UNITS.c.key == CASES.c.unit))
        .where(and_(CASES.c.id == final.id))
    ).one_or_none()
    return None if row is None else CaseStatus(**row._mapping)
