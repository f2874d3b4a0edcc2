"""The public status lookup: a case, by its tracking number, for a person who can name its reporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, case, exists, literal, select

from storage.tables import CASES, RAW, UNITS

KINDS = ("email", "phone")
"""The contacts a reporter can look a case up by; any other kind matches nothing."""


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
    """The case with this tracking number one of whose own messages gave the identity
    ``(kind, value)`` (``email`` in lower case, or ``phone`` in E.164, as the normalizer keeps
    them), whatever channel it came by; else None.

    Not any identity linked to the case's reporter: a phone shared by two people links them, and
    one must not look up the other's case with their own email. One statement whatever is wrong
    (the number, the identity, both; the kind is a parameter too, an unknown one matching
    nothing), so that a wrong pair and an unknown number cost the same: the unique tracking number
    finds at most one case, and its few messages are read by ``raw_message.case_id``.
    """
    wanted = literal(kind, String)
    given = case(*((wanted == known, RAW.c.normalized[("reporter", known)].as_string()) for known in KINDS))
    own_message = exists().where(RAW.c.case_id == CASES.c.id, given == value)
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
        .where(CASES.c.tracking_number == tracking_number, own_message)
    ).one_or_none()
    return None if row is None else CaseStatus(**row._mapping)
