"""An officer turns a message kept without a case into a case (``satupintu cases promote``).

The message goes back to triage marked ``opened_by``: triage opens a case for it whatever it
says (a greeting, a status command), with a tracking number, deadlines and a receipt, exactly as
for any report; it never joins another case. A machine's message (a bounce, an auto-reply) is
not turned into a case: no receipt may go to a mailer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from storage.db import utcnow
from storage.models import RAW_NORMALIZED, RAW_TRIAGED
from storage.sweeps import NOT_QUEUED
from storage.tables import RAW
from storage.threads import CASELESS

OPENED_BY = "opened_by"
"""The key in a normalized record's ``extra`` naming the officer who asked for its case
(restored from the compiled module after an accidental overwrite: this docstring is new)."""


class CannotPromote(Exception):
    """The message cannot be turned into a case; the text says why."""


@dataclass(frozen=True, slots=True)
class Promoted:
    raw_message_id: int
    channel: str


def promote(connection: Connection, caseless_id: int, actor: str, *, published: bool = True) -> Promoted:
    """Send a message kept without a case back to triage to open its own case.

    ``published=False``: the caller cannot reach the triage queue (``memory://`` lives in the
    running process), so the message is marked as never queued for that process's next sweep.
    """
    row = connection.execute(select(CASELESS).where(CASELESS.c.id == caseless_id)).mappings().first()
    if row is None:
        raise CannotPromote(f"no message without a case has id {caseless_id}")
    if row["case_id"] is not None:
        raise CannotPromote(f"message {caseless_id} is in a case already")
    if row["reason"] == "automatic":
        raise CannotPromote(f"message {caseless_id} was sent by a machine (an auto-reply or a bounce): no case for it")
    raw = connection.execute(select(RAW.c.normalized, RAW.c.state).where(RAW.c.id == row["raw_message_id"])).first()
    if raw is None or raw.state != RAW_TRIAGED or raw.normalized is None:
        raise CannotPromote(f"message {caseless_id} is still on its way through the pipeline")
    record = dict(raw.normalized)
    record["extra"] = {**(record.get("extra") or {}), OPENED_BY: actor}
    connection.execute(
        update(RAW)
        .where(RAW.c.id == row["raw_message_id"], RAW.c.state == RAW_TRIAGED)
        .values(state=RAW_NORMALIZED, normalized=record, attempts=0, queued_at=utcnow() if published else NOT_QUEUED)
    )
    connection.execute(
        update(CASELESS).where(CASELESS.c.id == caseless_id).values(handled_by=actor, handled_at=utcnow())
    )
    return Promoted(int(row["raw_message_id"]), str(row["channel"]))
