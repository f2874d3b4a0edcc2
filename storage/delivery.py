"""Delivery statuses: what a channel later says of a message we sent (sent, delivered, read,
failed), kept once each and applied to the outbox row it names by the provider's message id.

A status can arrive before our own record of that id (a webhook is faster than our commit), so
both sides apply what is stored: the normalizer when a status comes in, the deliver stage when
it records a row sent. On PostgreSQL both take a transaction lock per (channel, provider id)
first, so that of two transactions committing at once the second sees the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, select, text, update

from envelopes import DeliveryStatus, Recipient
from storage.cases import record_events
from storage.models import DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_READ, DELIVERY_SENT
from storage.sql import insert_ignore, keyed_in
from storage.tables import DELIVERY_STATUS, OUTBOX

PROGRESS = {DELIVERY_SENT: 0, DELIVERY_DELIVERED: 1, DELIVERY_FAILED: 2, DELIVERY_READ: 3}
"""How far each status goes; an outbox row only moves forward. A failure wins over sent and
delivered (the provider gave up after accepting, and the officer must know), not over read: a
message the reporter read was delivered, whatever came after."""

ACTOR = "system:delivery-status"
LOCK_BUCKETS = 64
LOCK_BASE = 0x5A7D_0000
"""Advisory lock ids ``LOCK_BASE`` to ``LOCK_BASE + LOCK_BUCKETS - 1`` are this module's."""

Key = tuple[str, str]
"""(channel, provider message id)"""


class OtherWays(Protocol):
    """The reporter's other ways, for the officer, when a reply failed for good: the ``reachable``
    of the case event (``triage.replies.OtherWays``)."""

    def __call__(
        self, connection: Connection, case_id: int, channel: str, recipient: Recipient, channel_down: bool
    ) -> list[dict[str, str]]: ...


def record_statuses(
    connection: Connection, statuses: Sequence[DeliveryStatus], other_ways: OtherWays | None = None
) -> None:
    """Keep each status once (a channel may report it twice) and apply them to the outbox."""
    if not statuses:
        return
    rows = [
        {
            "channel": s.channel,
            "provider_message_id": s.provider_message_id,
            "status": s.status,
            "at": s.at,
            "error_code": s.error_code,
            "error": s.error,
            "raw_message_id": s.raw_message_id,
        }
        for s in statuses
    ]
    connection.execute(insert_ignore(connection, DELIVERY_STATUS), rows)
    apply_statuses(connection, ((s.channel, s.provider_message_id) for s in statuses), other_ways)


def apply_statuses(connection: Connection, keys: Iterable[Key], other_ways: OtherWays | None = None) -> None:
    """Bring the outbox rows sent under ``keys`` up to the furthest status stored for them; a
    failure reaching a row adds a ``delivery_failed`` event to its case, with the reporter's
    other ways (``reachable``) when ``other_ways`` is given."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    _serialise(connection, wanted)
    furthest = _furthest(connection, wanted)
    if not furthest:  # the common case when recording sends: nothing came before our commit
        return
    messages = connection.execute(
        select(
            OUTBOX.c.id,
            OUTBOX.c.case_id,
            OUTBOX.c.channel,
            OUTBOX.c.provider_message_id,
            OUTBOX.c.delivery_state,
            OUTBOX.c.recipient,
        ).where(keyed_in(OUTBOX, "channel", "provider_message_id", furthest))
    ).all()
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for message in messages:
        status = furthest.get((message.channel, message.provider_message_id))
        if status is None or not _moves_forward(message.delivery_state, status.status):
            continue
        error = _error(status.error_code, status.error)
        changes.append({"d_id": message.id, "d_state": status.status, "d_at": status.at, "d_error": error})
        if status.status == DELIVERY_FAILED and message.case_id is not None:  # a greeting has no case
            event = _failed_event(message, status)
            if other_ways is not None:
                to = Recipient.model_validate(message.recipient)
                event["detail"]["reachable"] = other_ways(connection, message.case_id, message.channel, to, False)
            events.append(event)
    if changes:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("d_id"))
            .values(
                delivery_state=bindparam("d_state"),
                delivery_state_at=bindparam("d_at"),
                delivery_error=bindparam("d_error"),
            ),
            changes,
        )
    record_events(connection, events)


def _furthest(connection: Connection, keys: Iterable[Key]) -> dict[Key, Any]:
    """The furthest status stored for each key."""
    furthest: dict[Key, Any] = {}
    query = select(DELIVERY_STATUS).where(keyed_in(DELIVERY_STATUS, "channel", "provider_message_id", keys))
    for status in connection.execute(query):
        key = (status.channel, status.provider_message_id)
        if key not in furthest or PROGRESS[status.status] > PROGRESS[furthest[key].status]:
            furthest[key] = status
    return furthest


def _moves_forward(current: str | None, new: str) -> bool:
    return current is None or PROGRESS[new] > PROGRESS[current]


def _error(code: str | None, error: str | None) -> str | None:
    joined = ": ".join(part for part in (code, error) if part)
    return joined[:4000] or None


def _failed_event(message: Any, status: Any) -> dict[str, Any]:
    detail = {
        "channel": message.channel,
        "outbox_id": message.id,
        "provider_message_id": message.provider_message_id,
        "error_code": status.error_code,
        "error": (status.error or "")[:500] or None,
    }
    return {"case_id": message.case_id, "actor": ACTOR, "action": "delivery_failed", "detail": detail}


def _serialise(connection: Connection, keys: Sequence[Key]) -> None:
    """On PostgreSQL, transaction locks on the keys' buckets, taken in one order by everyone (no
    deadlock); buckets keep a large batch within PostgreSQL's lock table. SQLite runs one write
    transaction at a time already."""
    if connection.dialect.name != "postgresql":
        return
    buckets = sorted({LOCK_BASE + _bucket(key) for key in keys})
    connection.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:buckets AS BIGINT[])) AS k"), {"buckets": buckets}
    )


def _bucket(key: Key) -> int:
    digest = hashlib.blake2b("\x00".join(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % LOCK_BUCKETS
