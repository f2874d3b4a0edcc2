"""``satupintu calendar``: the office calendar, for an officer who must tell a caller a date and
for checking the calendar after a decree moves a holiday."""

from __future__ import annotations

from datetime import date, datetime

import click

from cli.common import FORMAT, emit, fail_cleanly, settings


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar of the office (holidays, cuti bersama, office hours)."""


@calendar_group.command("due")
@click.argument("moment")
@click.option("--days", type=click.IntRange(0, 400), required=True, help="Working days to add.")
@FORMAT
@click.pass_context
@fail_cleanly
def due(ctx: click.Context, moment: str, days: int, output: str) -> None:
    """The receipt day of something arriving at MOMENT ("2026-03-20 19:20", local time of the
    office unless it carries an offset) and the moment DAYS working days later falls due."""
    from triage.calendar import WorkingCalendar

    loaded = settings(ctx)
    try:
        arrived = datetime.fromisoformat(moment.strip())
    except ValueError:
        raise click.BadParameter(
            f"{moment!r} is not a date and time such as 2026-03-20 19:20", param_hint="MOMENT"
        ) from None
    if arrived.tzinfo is None:
        arrived = arrived.replace(tzinfo=loaded.zone)
    calendar = WorkingCalendar.from_settings(loaded)
    receipt_day = calendar.receipt_day(arrived)
    due_at = calendar.deadline(arrived, days).astimezone(loaded.zone)
    skipped = [
        f"{day.isoformat()} {calendar.holiday_name(day) or 'weekend'}"
        for day in _days_between(arrived, due_at)
        if not calendar.is_working_day(day)
    ]
    result = {
        "arrived": arrived.astimezone(loaded.zone).isoformat(),
        "receipt_day": receipt_day.isoformat(),
        "working_days": days,
        "due": due_at.isoformat(),
        "not_working": skipped,
    }

    def table(data: dict[str, object]) -> None:
        click.echo(f"receipt day  {data['receipt_day']}")
        click.echo(f"due          {data['due']}")
        for line in skipped:
            click.echo(f"  off        {line}")

    emit(result, output == "json", table, loaded.zone)


def _days_between(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), end.date()
    return [first.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
