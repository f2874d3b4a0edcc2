"""The walk-in desk's queue numbers in the database: one lock row per counter and day, and the
tickets (issue 21). The rules (three calls, coming back after three) are ``visitor_queue/line.py``;
this module only reads and writes rows, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.tables import QUEUE_DAYS, QUEUE_TICKETS

WAITING = "waiting"
CALLED = "called"
SET_ASIDE = "set_aside"
SERVED = "served"
STATES = (WAITING, CALLED, SET_ASIDE, SERVED)


def lock_day(connection: Connection, counter: str, day: str) -> Row[Any]:
    """The counter's row for ``day``, made on first use and locked for the rest of the transaction
    (PostgreSQL: ``FOR UPDATE``; SQLite's writers already take turns, ``BEGIN IMMEDIATE``)."""
    where = (QUEUE_DAYS.c.counter == counter) & (QUEUE_DAYS.c.day == day)
    locked = select(QUEUE_DAYS).where(where).with_for_update()
    row = connection.execute(locked).first()
    if row is None:
        try:
            with connection.begin_nested():
                connection.execute(insert(QUEUE_DAYS).values(counter=counter, day=day, taken=0, calls=0))
        except IntegrityError:  # another officer's first take of the day came first
            pass
        row = connection.execute(locked).one()
    return row


def count_number(connection: Connection, day_id: int) -> int:
    """The next number of the day: the row's count, raised by one."""
    connection.execute(update(QUEUE_DAYS).where(QUEUE_DAYS.c.id == day_id).values(taken=QUEUE_DAYS.c.taken + 1))
    return int(connection.execute(select(QUEUE_DAYS.c.taken).where(QUEUE_DAYS.c.id == day_id)).scalar_one())


def count_call(connection: Connection, day_id: int) -> int:
    connection.execute(update(QUEUE_DAYS).where(QUEUE_DAYS.c.id == day_id).values(calls=QUEUE_DAYS.c.calls + 1))
    return int(connection.execute(select(QUEUE_DAYS.c.calls).where(QUEUE_DAYS.c.id == day_id)).scalar_one())


def add_ticket(connection: Connection, counter: str, day: str, number: str, at: datetime, by: str | None) -> int:
    last = connection.execute(
        select(func.max(QUEUE_TICKETS.c.position)).where(
            (QUEUE_TICKETS.c.counter == counter) & (QUEUE_TICKETS.c.day == day)
        )
    ).scalar()
    values = {
        "counter": counter,
        "day": day,
        "number": number,
        "position": (last or 0) + 1,
        "state": WAITING,
        "taken_at": at,
        "taken_by": by,
        "calls": 0,
        "times_set_aside": 0,
    }
    key = connection.execute(insert(QUEUE_TICKETS).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def tickets(connection: Connection, counter: str, day: str, states: Sequence[str] = STATES) -> list[Row[Any]]:
    """The day's tickets at one counter in the states asked, waiting ones in the order called."""
    return list(
        connection.execute(
            select(QUEUE_TICKETS)
            .where(
                (QUEUE_TICKETS.c.counter == counter) & (QUEUE_TICKETS.c.day == day) & QUEUE_TICKETS.c.state.in_(states)
            )
            .order_by(QUEUE_TICKETS.c.position)
        )
    )


def ticket(connection: Connection, counter: str, day: str, number: str) -> Row[Any] | None:
    return connection.execute(
        select(QUEUE_TICKETS).where(
            (QUEUE_TICKETS.c.counter == counter) & (QUEUE_TICKETS.c.day == day) & (QUEUE_TICKETS.c.number == number)
        )
    ).first()


def ticket_of_day(connection: Connection, day: str, number: str) -> Row[Any] | None:
    """A number of ``day`` at whichever counter has its prefix (prefixes are distinct)."""
    return connection.execute(
        select(QUEUE_TICKETS).where((QUEUE_TICKETS.c.day == day) & (QUEUE_TICKETS.c.number == number))
    ).first()


def change(connection: Connection, ticket_id: int, **values: Any) -> None:
    connection.execute(update(QUEUE_TICKETS).where(QUEUE_TICKETS.c.id == ticket_id).values(**values))


def make_room_after(connection: Connection, counter: str, day: str, position: int) -> None:
    """Moves every ticket behind ``position`` one place back, so that one can come in right after it."""
    connection.execute(
        update(QUEUE_TICKETS)
        .where((QUEUE_TICKETS.c.counter == counter) & (QUEUE_TICKETS.c.day == day))
        .where(QUEUE_TICKETS.c.position > position)
        .values(position=QUEUE_TICKETS.c.position + 1)
    )


def days_calls(connection: Connection, day: str) -> dict[str, int]:
    """Calls made so far per counter on ``day`` (a display announces each new one)."""
    rows = connection.execute(select(QUEUE_DAYS.c.counter, QUEUE_DAYS.c.calls).where(QUEUE_DAYS.c.day == day))
    return {counter: int(calls) for counter, calls in rows}


def tickets_between(connection: Connection, first_day: str, last_day: str) -> list[Row[Any]]:
    """Every ticket of the days from ``first_day`` to ``last_day`` (ISO dates), for the figures."""
    return list(
        connection.execute(
            select(QUEUE_TICKETS)
            .where((QUEUE_TICKETS.c.day >= first_day) & (QUEUE_TICKETS.c.day <= last_day))
            .order_by(QUEUE_TICKETS.c.day, QUEUE_TICKETS.c.counter, QUEUE_TICKETS.c.id)
        )
    )
