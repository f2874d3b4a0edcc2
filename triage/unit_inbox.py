"""A work unit's inbox: the cases forwarded to it and the escalations of its deadlines, newest
first, until an officer of the unit marks them seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select, update

from storage.db import utcnow
from storage.tables import CASES, UNIT_INBOX


def entries(connection: Connection, unit: str, *, unseen_only: bool = True, limit: int = 100) -> list[dict[str, Any]]:
    statement = (
        select(
            UNIT_INBOX.c.id,
            UNIT_INBOX.c.kind,
            UNIT_INBOX.c.at,
            UNIT_INBOX.c.seen_at,
            CASES.c.tracking_number,
            CASES.c.status,
            CASES.c.confidential,
            CASES.c.subject,
            CASES.c.resolution_due,
        )
        .select_from(UNIT_INBOX.join(CASES, CASES.c.id == UNIT_INBOX.c.case_id))
        .where(UNIT_INBOX.c.unit == unit)
        .order_by(UNIT_INBOX.c.id.desc())
        .limit(limit)
    )
    if unseen_only:
        statement = statement.where(UNIT_INBOX.c.seen_at.is_(None))
    return [dict(row) for row in connection.execute(statement).mappings()]


def mark_seen(connection: Connection, unit: str, ids: list[int]) -> int:
    if not ids:
        return 0
    changed = connection.execute(
        update(UNIT_INBOX)
        .where(and_(UNIT_INBOX.c.unit == unit, UNIT_INBOX.c.id.in_(ids), UNIT_INBOX.c.seen_at.is_(None)))
        .values(seen_at=utcnow())
    )
    return int(changed.rowcount)
