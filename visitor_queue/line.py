"""The rules of the walk-in desk's queue, as the ministry's procedure words them.

The officer at the door takes a number for the counter (*loket*) the visitor needs; the counter
calls it, up to ``calls_before_skip`` times; nobody coming, the number is set aside as not present
and the next call takes the next number; a visitor who comes back is put back after
``return_after`` waiting numbers. Numbering restarts each day in the unit's zone. Every step locks
the counter's row for the day first (``storage.queue_numbers.lock_day``), so officers at the same
counter, or taking numbers at the door at once, never give or call one number twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Row

from config.settings import QueueCounter, QueueSettings
from storage import queue_numbers as store
from storage.db import reading, transaction
from storage.queue_numbers import CALLED, SERVED, SET_ASIDE, WAITING

NUMBER = re.compile(r"^([A-Z]{1,3})-?0*(\d{1,4})$")


def written(number: str) -> str | None:
    """A queue number as the queue writes it (``a-12`` → ``A012``); None if it is none."""
    found = NUMBER.match(number.strip().upper())
    return f"{found.group(1)}{int(found.group(2)):03d}" if found else None


class QueueRefused(Exception):
    """A step the queue's state does not allow; ``code`` names it for the console's languages."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class Ticket:
    counter: str
    day: str
    number: str
    state: str
    taken_at: datetime
    called_at: datetime | None
    calls: int
    set_aside_at: datetime | None
    returned_at: datetime | None
    served_at: datetime | None

    def waited(self, now: datetime) -> timedelta:
        """From taking the number to its first call (or until now, not yet called)."""
        return (self.called_at or now) - self.taken_at

    @classmethod
    def of(cls, row: Row[Any]) -> Ticket:
        return cls(
            counter=row.counter,
            day=row.day,
            number=row.number,
            state=row.state,
            taken_at=row.taken_at,
            called_at=row.called_at,
            calls=row.calls,
            set_aside_at=row.set_aside_at,
            returned_at=row.returned_at,
            served_at=row.served_at,
        )


@dataclass(frozen=True, slots=True)
class Taken:
    ticket: Ticket
    ahead: int
    """Numbers waiting before this one (the one at the counter included)."""


@dataclass(frozen=True, slots=True)
class Call:
    """What a call did: the number called (None: nobody waits), its call count, and the number it
    set aside on the way (its ``calls_before_skip`` calls had no answer)."""

    ticket: Ticket | None
    call: int
    set_aside: str | None
    sequence: int
    """The counter's calls today: a display announces a call whose sequence it has not seen."""


@dataclass(frozen=True, slots=True)
class CounterStatus:
    counter: QueueCounter
    day: str
    current: Ticket | None
    waiting: list[Ticket]
    set_aside: list[Ticket]
    served: list[Ticket]
    calls: int


class Line:
    """The queue of every counter, on one database; ``now`` is passed in so that days are testable."""

    def __init__(self, engine: Engine, settings: QueueSettings, zone: ZoneInfo) -> None:
        self.engine = engine
        self.settings = settings
        self.zone = zone

    def day(self, now: datetime) -> str:
        return now.astimezone(self.zone).date().isoformat()

    def counter(self, key: str) -> QueueCounter:
        if not self.settings.enabled:
            raise QueueRefused("disabled", "the queue is not enabled ([queue] enabled = false)")
        counter = self.settings.counter(key)
        if counter is None:
            known = ", ".join(c.key for c in self.settings.counters)
            raise QueueRefused("unknown_counter", f"no counter {key!r} (counters: {known})", counter=key)
        return counter

    def counter_of(self, number: str) -> tuple[QueueCounter, str]:
        """The counter whose prefix the number has, and the number as the queue writes it (``A012``)."""
        found = NUMBER.match(number.strip().upper())
        counter = next((c for c in self.settings.counters if found and c.prefix == found.group(1)), None)
        if found is None or counter is None:
            raise QueueRefused("unknown_number", f"{number!r} is no queue number of a counter here", number=number)
        return self.counter(counter.key), f"{counter.prefix}{int(found.group(2)):03d}"

    # --- the door ----------------------------------------------------------------------------------

    def take(self, key: str, now: datetime, officer: str | None = None) -> Taken:
        """The next number of the day at the counter ``key``."""
        counter = self.counter(key)
        day = self.day(now)
        with transaction(self.engine) as connection:
            lock = store.lock_day(connection, counter.key, day)
            number = f"{counter.prefix}{store.count_number(connection, lock.id):03d}"
            store.add_ticket(connection, counter.key, day, number, now, officer)
            ahead = len(store.tickets(connection, counter.key, day, (WAITING, CALLED))) - 1
            row = store.ticket(connection, counter.key, day, number)
        assert row is not None
        return Taken(Ticket.of(row), ahead)

    # --- the counter -------------------------------------------------------------------------------

    def call(self, key: str, now: datetime) -> Call:
        """Calls the number at the counter again, or, after its last call went unanswered (or with
        none at the counter), sets it aside and calls the next waiting number."""
        counter = self.counter(key)
        day = self.day(now)
        with transaction(self.engine) as connection:
            lock = store.lock_day(connection, counter.key, day)
            current = _current(connection, counter.key, day)
            if current is not None and current.calls < self.settings.calls_before_skip:
                return self._call(connection, lock.id, current, now, again=True, set_aside=None)
            set_aside = None
            if current is not None:
                _set_aside(connection, current, now)
                set_aside = current.number
            waiting = store.tickets(connection, counter.key, day, (WAITING,))
            if not waiting:
                return Call(None, 0, set_aside, int(lock.calls))
            return self._call(connection, lock.id, waiting[0], now, again=False, set_aside=set_aside)

    def call_again(self, key: str, now: datetime) -> Call:
        """Calls the number at the counter once more, within the three calls."""
        counter = self.counter(key)
        day = self.day(now)
        with transaction(self.engine) as connection:
            lock = store.lock_day(connection, counter.key, day)
            current = _current(connection, counter.key, day)
            if current is None:
                raise QueueRefused("nobody_called", f"no number is being called at {counter.name}", counter=key)
            if current.calls >= self.settings.calls_before_skip:
                raise QueueRefused(
                    "calls_spent",
                    f"{current.number} was called {current.calls} times: set it aside (not present) or call the next",
                    number=current.number,
                    calls=current.calls,
                )
            return self._call(connection, lock.id, current, now, again=True, set_aside=None)

    def not_present(self, key: str, now: datetime) -> Ticket:
        """Sets the number at the counter aside without waiting for its remaining calls."""
        counter = self.counter(key)
        day = self.day(now)
        with transaction(self.engine) as connection:
            store.lock_day(connection, counter.key, day)
            current = _current(connection, counter.key, day)
            if current is None:
                raise QueueRefused("nobody_called", f"no number is being called at {counter.name}", counter=key)
            _set_aside(connection, current, now)
            return Ticket.of(_reread(connection, current))

    def served(self, number: str, now: datetime, officer: str | None = None) -> Ticket:
        """Ends a visit: the visitor was served (called by the system or, when it failed, by hand)."""
        counter, number = self.counter_of(number)
        day = self.day(now)
        with transaction(self.engine) as connection:
            store.lock_day(connection, counter.key, day)
            row = self._ticket(connection, counter, day, number)
            if row.state != SERVED:
                store.change(
                    connection,
                    row.id,
                    state=SERVED,
                    served_at=now,
                    served_by=officer,
                    called_at=row.called_at or now,
                    calls=0,
                )
            return Ticket.of(_reread(connection, row))

    def returned(self, number: str, now: datetime) -> tuple[Ticket, int]:
        """Puts a set-aside number back in line after ``return_after`` waiting numbers; the place
        it gets (1: called next)."""
        counter, number = self.counter_of(number)
        day = self.day(now)
        with transaction(self.engine) as connection:
            store.lock_day(connection, counter.key, day)
            row = self._ticket(connection, counter, day, number)
            if row.state != SET_ASIDE:
                raise QueueRefused(
                    f"not_set_aside.{row.state}",
                    f"{number} is {row.state.replace('_', ' ')}, not set aside",
                    number=number,
                )
            waiting = store.tickets(connection, counter.key, day, (WAITING,))
            after = self.settings.return_after
            if after == 0 and waiting:
                position = waiting[0].position
                store.make_room_after(connection, counter.key, day, position - 1)
            elif 0 < after < len(waiting):
                position = waiting[after - 1].position + 1
                store.make_room_after(connection, counter.key, day, position - 1)
            else:
                position = _last_position(connection, counter.key, day) + 1
            store.change(connection, row.id, state=WAITING, position=position, returned_at=now, calls=0)
            place = min(after, len(waiting)) + 1
            return Ticket.of(_reread(connection, row)), place

    # --- reading -----------------------------------------------------------------------------------

    def status(self, key: str, now: datetime) -> CounterStatus:
        counter = self.counter(key)
        day = self.day(now)
        with reading(self.engine) as connection:
            rows = [Ticket.of(row) for row in store.tickets(connection, counter.key, day)]
            calls = store.days_calls(connection, day).get(counter.key, 0)
        return CounterStatus(
            counter=counter,
            day=day,
            current=next((t for t in rows if t.state == CALLED), None),
            waiting=[t for t in rows if t.state == WAITING],
            set_aside=[t for t in rows if t.state == SET_ASIDE],
            served=sorted((t for t in rows if t.state == SERVED), key=lambda t: t.served_at or t.taken_at),
            calls=calls,
        )

    # --- helpers -----------------------------------------------------------------------------------

    def _call(
        self, connection: Connection, day_id: int, row: Row[Any], now: datetime, *, again: bool, set_aside: str | None
    ) -> Call:
        calls = row.calls + 1 if again else 1
        store.change(connection, row.id, state=CALLED, calls=calls, called_at=row.called_at or now, last_called_at=now)
        sequence = store.count_call(connection, day_id)
        return Call(Ticket.of(_reread(connection, row)), calls, set_aside, sequence)

    def _ticket(self, connection: Connection, counter: QueueCounter, day: str, number: str) -> Row[Any]:
        row = store.ticket(connection, counter.key, day, number)
        if row is None:
            raise QueueRefused("no_such_number", f"{number} was not given at {counter.name} today", number=number)
        return row


def _current(connection: Connection, counter: str, day: str) -> Row[Any] | None:
    called = store.tickets(connection, counter, day, (CALLED,))
    return called[0] if called else None


def _set_aside(connection: Connection, row: Row[Any], now: datetime) -> None:
    store.change(
        connection, row.id, state=SET_ASIDE, set_aside_at=now, times_set_aside=row.times_set_aside + 1, calls=0
    )


def _reread(connection: Connection, row: Row[Any]) -> Row[Any]:
    fresh = store.ticket(connection, row.counter, row.day, row.number)
    assert fresh is not None
    return fresh


def _last_position(connection: Connection, counter: str, day: str) -> int:
    rows = store.tickets(connection, counter, day)
    return max((row.position for row in rows), default=0)
