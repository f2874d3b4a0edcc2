"""The public status lookup: a case, by its tracking number, for a person who can name its reporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select

from storage.tables import CASES, IDENTITY, UNITS


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """What a reporter may learn of their own case: where it stands and what is due next."""

    tracking_number: str
    kind: str
    status: str
    confidential: bool
    unit_name: str
    received_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    closed_at: datetime | None


def case_for_reporter(connection: Connection, tracking_number: str, kind: str, value: str) -> CaseStatus | None:
    """The case with this tracking number whose reporter has the identity ``(kind, value)``
    (``email`` in lower case, or ``phone`` in E.164), whatever channel it came by; else None.

    One statement whatever is wrong (the number, the identity, both), so that a wrong pair and an
    unknown number cost the same.
    """
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
        .select_from(
            CASES.join(IDENTITY, IDENTITY.c.reporter_id == CASES.c.reporter_id).join(UNITS, UNITS.c.key == CASES.c.unit)
        )
        .where(and_(CASES.c.tracking_number == tracking_number, IDENTITY.c.kind == kind, IDENTITY.c.value == value))
        .limit(1)
    ).one_or_none()
    return None if row is None else CaseStatus(**row._mapping)
