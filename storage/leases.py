"""Leases: which process runs a singleton loop (a pull source) right now, and until when.

A lease is one row per name. It is taken with one atomic statement, an insert that takes over the
row only when it has lapsed, so two processes racing for it cannot both win. The holder renews it
well before it lapses; work done under a lease (a cursor moved) is written in a transaction that
first renews it, so a process that lost its lease cannot write. Times are the processes' clocks
(UTC): hosts sharing a lease must agree on the time to well within its length (NTP).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import utcnow
from storage.tables import LEASES


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a live lease, for operators ("held by host:pid until ...")."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def this_process() -> str:
    """``host:pid``: how a lease names its holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(connection: Connection, name: str, holder: str, ttl_seconds: float) -> str | None:
    """Take the lease ``name`` if nobody holds it or its holder let it lapse; returns the new
    token, or None while another holder's lease is live."""
    now = utcnow()
    token = uuid.uuid4().hex
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(LEASES).values(
        name=name, holder=holder, token=token, acquired_at=now, expires_at=now + timedelta(seconds=ttl_seconds)
    )
    statement = insert.on_conflict_do_update(
        index_elements=[LEASES.c.name],
        set_={
            "holder": insert.excluded.holder,
            "token": insert.excluded.token,
            "acquired_at": insert.excluded.acquired_at,
            "expires_at": insert.excluded.expires_at,
        },
        where=LEASES.c.expires_at <= now,
    ).returning(LEASES.c.token)
    taken = connection.execute(statement).scalar_one_or_none()
    return None if taken is None else str(taken)


def renew(connection: Connection, name: str, token: str, ttl_seconds: float) -> bool:
    """Extend a lease we still hold; False when it lapsed or was taken over (it is lost).

    On PostgreSQL the update locks the row until the transaction ends, so a takeover waits for
    it: whatever the same transaction writes after a successful renewal is written under the lease.
    """
    now = utcnow()
    renewed = connection.execute(
        update(LEASES)
        .where(and_(LEASES.c.name == name, LEASES.c.token == token, LEASES.c.expires_at > now))
        .values(expires_at=now + timedelta(seconds=ttl_seconds))
    ).rowcount
    return bool(renewed)


def release(connection: Connection, name: str, token: str) -> None:
    """Give the lease up (at shutdown) so that a standby takes it at once rather than at expiry."""
    connection.execute(delete(LEASES).where(and_(LEASES.c.name == name, LEASES.c.token == token)))


def holder(connection: Connection, name: str) -> Holder | None:
    """The live holder of ``name``, or None when it is free or lapsed."""
    row = connection.execute(
        select(LEASES.c.holder, LEASES.c.acquired_at, LEASES.c.expires_at).where(
            and_(LEASES.c.name == name, LEASES.c.expires_at > utcnow())
        )
    ).first()
    return None if row is None else Holder(name, row.holder, row.acquired_at, row.expires_at)
