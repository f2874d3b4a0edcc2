"""``satupintu report``: figures for the unit's periodic reports (the SKM index, the walk-in queue)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import click

from cli.common import FORMAT, connection, emit, fail_cleanly, settings

PERIOD_FROM = click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (local)."
)
PERIOD_TO = click.option(
    "--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, included (local)."
)


@click.group("report")
def report_group() -> None:
    """Reports for the unit's periodic evaluation."""


@report_group.command("skm")
@PERIOD_FROM
@PERIOD_TO
@FORMAT
@click.pass_context
@fail_cleanly
def skm(ctx: click.Context, start: datetime, end: datetime, output: str) -> None:
    """The satisfaction index (SKM, PermenPANRB 14/2017) of the surveys answered from --from to
    --to: per unit and for all units, each element's mean (NRR), the index (IKM), converted x25,
    and its grade A-D. Aggregates only: no answer is shown on its own."""
    from triage import survey

    zone = settings(ctx).zone
    first, last = start.date(), end.date()
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    since = datetime.combine(first, time(0), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    with connection(ctx) as reader:
        found = survey.indexes(reader, since, until)
    rows = [_row(index, first, last) for index in found]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo(f"no survey answered from {first} to {last}")
            return
        for row in data:
            means = " ".join(f"{row['element_means'].get(str(n), '-')}" for n in range(1, survey.COUNT + 1))
            click.echo(
                f"{row['unit']:<14} respondents {row['respondents']:>4}  IKM {row['ikm']}  "
                f"SKM {row['converted']}  {row['grade']} ({row['performance']})  NRR {means}"
            )

    emit(rows, output == "json", table, zone)


def _row(index: Any, first: date, last: date) -> dict[str, Any]:
    return {
        "unit": index.unit or "(all)",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "respondents": index.respondents,
        "element_means": {str(e): str(m) for e, m in index.element_means.items()},
        "ikm": str(index.ikm),
        "converted": str(index.converted),
        "grade": index.grade,
        "performance": index.performance,
    }


@report_group.command("queue")
@PERIOD_FROM
@PERIOD_TO
@FORMAT
@click.pass_context
@fail_cleanly
def queue(ctx: click.Context, start: datetime, end: datetime, output: str) -> None:
    """The walk-in desk per counter and day from --from to --to: visitors (numbers taken), waiting
    time from taking the number to its first call (median, 90th percentile, minutes), not present
    (set aside, never served) and served."""
    from dataclasses import asdict

    from visitor_queue.figures import day_figures

    loaded = settings(ctx)
    first, last = start.date(), end.date()
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    with connection(ctx) as reader:
        rows = [asdict(figures) for figures in day_figures(reader, loaded.queue, first, last)]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo(f"no queue number taken from {first} to {last}")
            return
        for row in data:
            click.echo(
                f"{row['day']}  {row['counter_name']:<18} visitors {row['visitors']:>4}  served {row['served']:>4}  "
                f"not present {row['not_present']:>3}  waiting {row['waiting']:>3}  "
                f"wait median {_minutes(row['wait_median_minutes'])}  p90 {_minutes(row['wait_p90_minutes'])}"
            )

    emit(rows, output == "json", table, loaded.zone)


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value} min"
