"""Connector state: cursors and small values a connector keeps between runs."""

from __future__ import annotations

from sqlalchemy import Connection, and_, select, update

from storage.db import utcnow
from storage.sql import insert_ignore
from storage.tables import STATE


def state_get(connection: Connection, channel: str, key: str) -> str | None:
    value = connection.execute(
        select(STATE.c.value).where(and_(STATE.c.channel == channel, STATE.c.key == key))
    ).scalar_one_or_none()
    return None if value is None else str(value)


def state_set(connection: Connection, channel: str, key: str, value: str) -> None:
    now = utcnow()
    changed = connection.execute(
        update(STATE).where(and_(STATE.c.channel == channel, STATE.c.key == key)).values(value=value, updated_at=now)
    ).rowcount
    if not changed:
        connection.execute(
            insert_ignore(connection, STATE), {"channel": channel, "key": key, "value": value, "updated_at": now}
        )


def state_setdefault(connection: Connection, channel: str, key: str, value: str) -> str:
    connection.execute(
        insert_ignore(connection, STATE), {"channel": channel, "key": key, "value": value, "updated_at": utcnow()}
    )
    kept = state_get(connection, channel, key)
    return value if kept is None else kept
