"""Channel users' profiles (the name behind an Instagram IGSID): asked for once per identity by the
normalizer, looked up after triage by ``pipeline/profiles.py``, and kept as the cache later
messages of that user are named from.

The normalizer asks in its own transaction (:func:`name_from_profiles`): a message whose channel
has the ``profile`` role and that names its sender by id alone gets the name already known, or
a pending row. The lookup waits until that first message is past triage, so that its case exists
when the name is applied (:func:`mark_found`): on the reporter if they have none, and on the cases
whose first message came from that user and gave no name. A failure is kept on the row and never
asked again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update

from envelopes import NormalizedMessage, Reporter
from storage.cases import record_events
from storage.db import utcnow
from storage.models import (
    PROFILE_FAILED,
    PROFILE_FETCHING,
    PROFILE_FOUND,
    PROFILE_PENDING,
    RAW_NORMALIZED,
    RAW_RECEIVED,
)
from storage.sql import insert_ignore, keyed_in
from storage.tables import CASES, IDENTITY, PROFILES, RAW, REPORTER

ACTOR = "system:profile"
MAX_NAME = 255

Key = tuple[str, str]
"""(channel, channel user id)"""


def shown_name(name: str | None, handle: str | None) -> str | None:
    """What to call the user: their profile name, else their handle (``@rina.w``)."""
    if name and name.strip():
        return name.strip()[:MAX_NAME]
    return f"@{handle.strip()}"[:MAX_NAME] if handle and handle.strip() else None


def _nameless(message: NormalizedMessage, channels: Collection[str]) -> bool:
    reporter = message.reporter
    return (
        message.channel in channels
        and bool(reporter.channel_user_id)
        and not reporter.name
        and not message.anonymous
        and len(reporter.channel_user_id or "") <= MAX_NAME
    )


def name_from_profiles(
    connection: Connection, messages: Sequence[NormalizedMessage], channels: Collection[str]
) -> list[NormalizedMessage]:
    """``messages`` with the names already looked up for their senders; a pending lookup is
    recorded for each sender never asked about. Only messages of ``channels`` (those whose
    connector has the ``profile`` role) that name their sender by id alone are touched."""
    wanted = [m for m in messages if _nameless(m, channels)]
    if not wanted:
        return list(messages)
    keys = {(m.channel, str(m.reporter.channel_user_id)) for m in wanted}
    known = {
        (row.channel, row.channel_user_id): shown_name(row.name, row.handle)
        for row in connection.execute(
            select(PROFILES.c.channel, PROFILES.c.channel_user_id, PROFILES.c.name, PROFILES.c.handle).where(
                keyed_in(PROFILES, "channel", "channel_user_id", keys)
            )
        )
    }
    now = utcnow()
    asking: dict[Key, dict[str, Any]] = {}
    for message in wanted:
        key = (message.channel, str(message.reporter.channel_user_id))
        if key not in known and key not in asking:
            asking[key] = {
                "channel": key[0],
                "channel_user_id": key[1],
                "raw_message_id": message.raw_message_id,
                "state": PROFILE_PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
    if asking:
        connection.execute(insert_ignore(connection, PROFILES), list(asking.values()))
    asked = {id(m) for m in wanted}
    named = []
    for message in messages:
        name = known.get((message.channel, str(message.reporter.channel_user_id))) if id(message) in asked else None
        reporter = message.reporter.model_copy(update={"name": name}) if name else None
        named.append(message.model_copy(update={"reporter": reporter}) if reporter else message)
    return named


@dataclass(frozen=True, slots=True)
class ProfileClaim:
    """A lookup this worker may make: only the holder of ``token`` writes its outcome."""

    id: int
    channel: str
    channel_user_id: str
    attempts: int
    """Attempts so far, this one included."""
    token: str


def claim_due(connection: Connection, limit: int, lease_seconds: float) -> list[ProfileClaim]:
    """Take up to ``limit`` lookups due: pending ones whose first message is past triage (its case
    exists), and ones whose worker died mid-lookup. Competing workers skip each other's rows on
    PostgreSQL (``FOR UPDATE SKIP LOCKED``); on SQLite the write lock makes them take turns."""
    now = utcnow()
    token = uuid.uuid4().hex
    due = or_(
        and_(PROFILES.c.state == PROFILE_PENDING, PROFILES.c.next_attempt_at <= now),
        and_(PROFILES.c.state == PROFILE_FETCHING, PROFILES.c.lease_expires_at <= now),
    )
    chosen = (
        select(PROFILES.c.id)
        .join(RAW, RAW.c.id == PROFILES.c.raw_message_id)
        .where(due, RAW.c.state.notin_((RAW_RECEIVED, RAW_NORMALIZED)))
        .order_by(PROFILES.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=PROFILES)
    )
    statement = (
        update(PROFILES)
        .where(and_(PROFILES.c.id.in_(chosen), due))
        .values(
            state=PROFILE_FETCHING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=PROFILES.c.attempts + 1,
        )
        .returning(PROFILES.c.id, PROFILES.c.channel, PROFILES.c.channel_user_id, PROFILES.c.attempts)
    )
    claims = [
        ProfileClaim(r.id, r.channel, r.channel_user_id, r.attempts, token) for r in connection.execute(statement)
    ]
    return sorted(claims, key=lambda claim: claim.id)


def _claimed(claim: ProfileClaim) -> ColumnElement[bool]:
    return and_(PROFILES.c.id == claim.id, PROFILES.c.lease_token == claim.token, PROFILES.c.state == PROFILE_FETCHING)


def _finish(connection: Connection, claim: ProfileClaim, **values: Any) -> bool:
    changed = connection.execute(
        update(PROFILES).where(_claimed(claim)).values(lease_token=None, lease_expires_at=None, **values)
    ).rowcount
    return bool(changed)


def mark_found(connection: Connection, claim: ProfileClaim, name: str | None, handle: str | None) -> bool:
    """Keep what the channel said and name, if it gave a name, the user's reporter (when nameless)
    and their nameless cases; False when the claim lapsed and another worker took the row."""
    name, handle = (name or "").strip()[:MAX_NAME] or None, (handle or "").strip()[:MAX_NAME] or None
    if not _finish(connection, claim, state=PROFILE_FOUND, name=name, handle=handle, error=None, looked_up_at=utcnow()):
        return False
    shown = shown_name(name, handle)
    if shown is not None:
        _apply(connection, claim, shown)
    return True


def _apply(connection: Connection, claim: ProfileClaim, shown: str) -> None:
    """The name on the user's reporter (if they have none yet) and on each case of theirs on the
    channel that has none, whose first message came from this very user: a reporter may hold
    several identities (a shared phone), and one user's name must not reach another's case."""
    identity = f"{claim.channel}:{claim.channel_user_id}"
    reporters = list(
        connection.scalars(
            select(IDENTITY.c.reporter_id).where(and_(IDENTITY.c.kind == "channel_user", IDENTITY.c.value == identity))
        )
    )
    if not reporters:
        return
    connection.execute(
        update(REPORTER).where(and_(REPORTER.c.id.in_(reporters), REPORTER.c.name.is_(None))).values(name=shown)
    )
    candidates = list(
        connection.scalars(
            select(CASES.c.id).where(
                and_(
                    CASES.c.reporter_id.in_(reporters),
                    CASES.c.channel == claim.channel,
                    CASES.c.reporter_name.is_(None),
                    CASES.c.anonymous.is_(False),
                )
            )
        )
    )
    if not candidates:
        return
    firsts = select(func.min(RAW.c.id)).where(RAW.c.case_id.in_(candidates)).group_by(RAW.c.case_id)
    theirs = [
        row.case_id
        for row in connection.execute(
            select(RAW.c.case_id, RAW.c.channel, RAW.c.normalized["reporter"].label("reporter")).where(
                RAW.c.id.in_(firsts)
            )
        )
        if row.channel == claim.channel
        and Reporter.model_validate(row.reporter or {}).channel_user_id == claim.channel_user_id
    ]
    if not theirs:
        return
    connection.execute(
        update(CASES)
        .where(and_(CASES.c.id.in_(theirs), CASES.c.reporter_name.is_(None)))
        .values(reporter_name=shown, updated_at=utcnow())
    )
    record_events(
        connection,
        [
            {"case_id": case_id, "actor": ACTOR, "action": "reporter_named", "detail": {"channel": claim.channel}}
            for case_id in theirs
        ],
    )


def mark_retry(connection: Connection, claim: ProfileClaim, error: str, at: datetime) -> bool:
    """Ask again at ``at``, keeping why this attempt failed."""
    return _finish(connection, claim, state=PROFILE_PENDING, next_attempt_at=at, error=error[:4000])


def mark_failed(connection: Connection, claim: ProfileClaim, reason: str) -> bool:
    """The channel will not say: kept, never asked again; the cases go on with the user's id."""
    return _finish(connection, claim, state=PROFILE_FAILED, error=reason[:4000], looked_up_at=utcnow())


def release(connection: Connection, claims: Sequence[ProfileClaim]) -> None:
    """Hand back lookups a shutdown cut short: due now, the attempt not counted."""
    for claim in claims:
        connection.execute(
            update(PROFILES)
            .where(_claimed(claim))
            .values(
                state=PROFILE_PENDING,
                next_attempt_at=utcnow(),
                attempts=PROFILES.c.attempts - 1,
                lease_token=None,
                lease_expires_at=None,
            )
        )
