"""``satupintu queue``: the walk-in desk's queue numbers from the terminal, the same steps as the
counter pages (``/console/queue/<counter>``), for when the display or the browser is down."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from cli.common import EXIT_NOT_FOUND, FORMAT, database, emit, fail_cleanly, settings
from visitor_queue.line import Call, CounterStatus, Line, QueueRefused, Ticket
from visitor_queue.spoken import announcement

T = TypeVar("T")


@click.group("queue")
def queue_group() -> None:
    """Queue numbers per counter: take, call (three times), served, returned, status."""


@contextmanager
def _line(ctx: click.Context) -> Iterator[Line]:
    loaded = settings(ctx)
    with database(ctx) as parts:
        yield Line(parts.engine, loaded.queue, loaded.zone)


def _refused(step: Callable[[], T]) -> T:
    try:
        return step()
    except QueueRefused as exc:
        click.echo(f"satupintu: {exc}", err=True)
        sys.exit(EXIT_NOT_FOUND)


@queue_group.command("take")
@click.argument("counter")
@click.option(
    "--print",
    "print_to",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the ticket (PDF) here.",
)
@FORMAT
@click.pass_context
@fail_cleanly
def take(ctx: click.Context, counter: str, print_to: Path | None, output: str) -> None:
    """The next number of the day at COUNTER (a [[queue.counters]] key), and its ticket."""
    from cli.reveal import actor
    from visitor_queue.ticket_pdf import ticket_pdf

    zone = settings(ctx).zone
    with _line(ctx) as line:
        taken = _refused(lambda: line.take(counter, datetime.now(UTC), actor()))
        desk = line.counter(counter)
    if print_to is not None:
        print_to.write_bytes(ticket_pdf(taken, desk, zone))
    data = {**_ticket(taken.ticket, datetime.now(UTC)), "counter_name": desk.name, "ahead": taken.ahead}

    def table(row: dict[str, Any]) -> None:
        click.echo(f"{row['number']}  {row['counter_name']}  {row['ahead']} waiting before it")
        if print_to is not None:
            click.echo(f"ticket: {print_to}")

    emit(data, output == "json", table, zone)


@queue_group.command("call")
@click.argument("counter")
@click.option("--again", is_flag=True, help="Only call the number at the counter again (refused after the last call).")
@FORMAT
@click.pass_context
@fail_cleanly
def call(ctx: click.Context, counter: str, again: bool, output: str) -> None:
    """Call the number at COUNTER again, or the next waiting number: after [queue]
    calls_before_skip calls with nobody coming, the number is set aside as not present."""
    zone = settings(ctx).zone
    with _line(ctx) as line:
        now = datetime.now(UTC)
        made = _refused(lambda: (line.call_again if again else line.call)(counter, now))
        desk = line.counter(counter)
        limit = line.settings.calls_before_skip
    data = _call(made, desk.name, limit, now)

    def table(row: dict[str, Any]) -> None:
        if row["set_aside"]:
            click.echo(f"{row['set_aside']} set aside as not present ({limit} calls, nobody came)")
        if row["number"] is None:
            click.echo(f"nobody is waiting at {desk.name}")
            return
        click.echo(f"calling {row['number']} at {desk.name}, call {row['call']} of {limit}: {row['announcement']}")

    emit(data, output == "json", table, zone)


@queue_group.command("not-present")
@click.argument("counter")
@click.pass_context
@fail_cleanly
def not_present(ctx: click.Context, counter: str) -> None:
    """Set the number called at COUNTER aside now, without its remaining calls."""
    with _line(ctx) as line:
        ticket = _refused(lambda: line.not_present(counter, datetime.now(UTC)))
    click.echo(
        f"{ticket.number} set aside as not present (`satupintu queue returned {ticket.number}` when they come back)"
    )


@queue_group.command("served")
@click.argument("number")
@click.pass_context
@fail_cleanly
def served(ctx: click.Context, number: str) -> None:
    """End the visit of NUMBER (today's), called by the system or by hand."""
    from cli.reveal import actor

    with _line(ctx) as line:
        now = datetime.now(UTC)
        ticket = _refused(lambda: line.served(number, now, actor()))
    click.echo(f"{ticket.number} served (waited {_minutes(ticket, now)} min)")


@queue_group.command("returned")
@click.argument("number")
@click.pass_context
@fail_cleanly
def returned(ctx: click.Context, number: str) -> None:
    """Put the set-aside NUMBER back in line, after [queue] return_after waiting numbers."""
    with _line(ctx) as line:
        ticket, place = _refused(lambda: line.returned(number, datetime.now(UTC)))
    click.echo(f"{ticket.number} is back in line, called {_ordinal(place)}")


@queue_group.command("status")
@click.argument("counter")
@FORMAT
@click.pass_context
@fail_cleanly
def status(ctx: click.Context, counter: str, output: str) -> None:
    """Today at COUNTER: the number being called, those waiting, set aside and served, with their
    waiting times (from taking the number to its first call, or until now)."""
    zone = settings(ctx).zone
    with _line(ctx) as line:
        now = datetime.now(UTC)
        found = _refused(lambda: line.status(counter, now))
    data = status_data(found, now)

    def table(row: dict[str, Any]) -> None:
        click.echo(f"{row['counter_name']} ({row['counter']}), {row['day']}")
        current = row["current"]
        click.echo(
            f"  at the counter: {current['number']} (call {current['calls']})" if current else "  at the counter: -"
        )
        for title, key in (("waiting", "waiting"), ("set aside", "set_aside"), ("served", "served")):
            entries = row[key]
            listed = ", ".join(f"{t['number']} ({t['waited_minutes']} min)" for t in entries) or "-"
            click.echo(f"  {title} ({len(entries)}): {listed}")

    emit(data, output == "json", table, zone)


def status_data(found: CounterStatus, now: datetime) -> dict[str, Any]:
    """A counter's status as the command's and the console's JSON give it."""
    return {
        "counter": found.counter.key,
        "counter_name": found.counter.name,
        "day": found.day,
        "current": _ticket(found.current, now) if found.current else None,
        "waiting": [_ticket(t, now) for t in found.waiting],
        "set_aside": [_ticket(t, now) for t in found.set_aside],
        "served": [_ticket(t, now) for t in found.served],
        "calls": found.calls,
    }


def _call(made: Call, counter_name: str, limit: int, now: datetime) -> dict[str, Any]:
    ticket = made.ticket
    return {
        "number": ticket.number if ticket else None,
        "call": made.call,
        "calls_before_skip": limit,
        "set_aside": made.set_aside,
        "announcement": announcement(ticket.number, counter_name) if ticket else None,
        "sequence": made.sequence,
        "waited_minutes": _minutes(ticket, now) if ticket else None,
    }


def _ticket(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "state": ticket.state,
        "taken_at": ticket.taken_at,
        "called_at": ticket.called_at,
        "calls": ticket.calls,
        "set_aside_at": ticket.set_aside_at,
        "returned_at": ticket.returned_at,
        "served_at": ticket.served_at,
        "waited_minutes": _minutes(ticket, now),
    }


def _minutes(ticket: Ticket, now: datetime) -> float:
    return round(ticket.waited(now).total_seconds() / 60, 1)


def _ordinal(place: int) -> str:
    return "next" if place == 1 else f"after {place - 1} waiting number{'s' if place > 2 else ''}"
