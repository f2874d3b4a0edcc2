"""Media a channel sent by reference: pending items written with the normalized message, then
fetched by the media step (``pipeline/media.py``), which links the bytes or records why not."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, update

from envelopes import MediaRef, NormalizedMessage
from storage.cases import record_events
from storage.db import utcnow
from storage.models import MEDIA_FAILED, MEDIA_FETCHED, MEDIA_FETCHING, MEDIA_PENDING
from storage.sql import insert_ignore
from storage.tables import MEDIA, RAW


def insert_pending(connection: Connection, messages: Sequence[NormalizedMessage]) -> int:
    """Record every media item the messages name, once (unique per raw message and position);
    called in the normalize transaction, so a message and its pending media commit together."""
    now = utcnow()
    rows = [
        {
            "raw_message_id": message.raw_message_id,
            "position": position,
            "channel": message.channel,
            "media_id": media.media_id,
            "kind": media.kind,
            "filename": media.filename,
            "content_type": media.content_type,
            "size": media.size,
            "state": MEDIA_PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for message in messages
        for position, media in enumerate(message.media)
    ]
    if rows:
        connection.execute(insert_ignore(connection, MEDIA), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class MediaClaim:
    """A media row this worker may fetch: only the holder of ``token`` writes its outcome."""

    id: int
    raw_message_id: int
    channel: str
    ref: MediaRef
    attempts: int
    """Attempts so far, this one included."""
    token: str


def claim_due(connection: Connection, limit: int, lease_seconds: float) -> list[MediaClaim]:
    """Take up to ``limit`` items due for a fetch: pending ones whose time has come, and ones whose
    worker died mid-fetch (its claim lapsed). On PostgreSQL competing workers skip each other's
    rows (``FOR UPDATE SKIP LOCKED``); on SQLite the write lock makes them take turns."""
    now = utcnow()
    token = uuid.uuid4().hex
    due = or_(
        and_(MEDIA.c.state == MEDIA_PENDING, MEDIA.c.next_attempt_at <= now),
        and_(MEDIA.c.state == MEDIA_FETCHING, MEDIA.c.lease_expires_at <= now),
    )
    chosen = select(MEDIA.c.id).where(due).order_by(MEDIA.c.next_attempt_at).limit(limit)
    statement = (
        update(MEDIA)
        .where(and_(MEDIA.c.id.in_(chosen.with_for_update(skip_locked=True)), due))
        .values(
            state=MEDIA_FETCHING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=MEDIA.c.attempts + 1,
        )
        .returning(
            MEDIA.c.id,
            MEDIA.c.raw_message_id,
            MEDIA.c.channel,
            MEDIA.c.media_id,
            MEDIA.c.kind,
            MEDIA.c.filename,
            MEDIA.c.content_type,
            MEDIA.c.size,
            MEDIA.c.attempts,
        )
    )
    claims = [
        MediaClaim(
            id=row.id,
            raw_message_id=row.raw_message_id,
            channel=row.channel,
            ref=MediaRef(
                media_id=row.media_id,
                kind=row.kind,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size,
            ),
            attempts=row.attempts,
            token=token,
        )
        for row in connection.execute(statement)
    ]
    return sorted(claims, key=lambda claim: claim.id)


def _claimed(claim: MediaClaim) -> ColumnElement[bool]:
    return and_(MEDIA.c.id == claim.id, MEDIA.c.lease_token == claim.token, MEDIA.c.state == MEDIA_FETCHING)


def mark_fetched(
    connection: Connection, claim: MediaClaim, sha256: str, size: int, content_type: str, filename: str | None
) -> bool:
    """Link the stored bytes to the item; False when the claim lapsed and another worker took it."""
    return _finish(
        connection,
        claim,
        state=MEDIA_FETCHED,
        sha256=sha256,
        size=size,
        content_type=content_type[:255],
        filename=(filename or claim.ref.filename),
        error=None,
        fetched_at=utcnow(),
    )


def mark_retry(connection: Connection, claim: MediaClaim, error: str, at: datetime) -> bool:
    """Put the item back for another attempt at ``at``, keeping why this one failed."""
    return _finish(connection, claim, state=MEDIA_PENDING, next_attempt_at=at, error=error[:4000])


def mark_failed(connection: Connection, claim: MediaClaim, reason: str) -> bool:
    """Record that the item can never be had; the message is kept, and its case (if it has one
    yet) gets a ``media_failed`` event so the officer sees what is missing."""
    if not _finish(connection, claim, state=MEDIA_FAILED, error=reason[:4000]):
        return False
    case_id = connection.execute(select(RAW.c.case_id).where(RAW.c.id == claim.raw_message_id)).scalar_one_or_none()
    if case_id is not None:
        detail = {"media": claim.id, "kind": claim.ref.kind, "raw_message_id": claim.raw_message_id, "error": reason}
        record_events(
            connection, [{"case_id": case_id, "actor": "system:media", "action": "media_failed", "detail": detail}]
        )
    return True


def release(connection: Connection, claims: Sequence[MediaClaim]) -> None:
    """Hand back items whose fetch was cut short by a shutdown: due now, the attempt not counted."""
    for claim in claims:
        connection.execute(
            update(MEDIA)
            .where(_claimed(claim))
            .values(
                state=MEDIA_PENDING,
                next_attempt_at=utcnow(),
                attempts=MEDIA.c.attempts - 1,
                lease_token=None,
                lease_expires_at=None,
            )
        )


def _finish(connection: Connection, claim: MediaClaim, **values: Any) -> bool:
    changed = connection.execute(
        update(MEDIA).where(_claimed(claim)).values(lease_token=None, lease_expires_at=None, **values)
    ).rowcount
    return bool(changed)
