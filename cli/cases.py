"""``satupintu cases``: the officers' terminal view until the console exists; times in the unit's
zone, and a confidential case's reporter hidden unless revealed (which is audited)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import click
from sqlalchemy import Connection, select

from cli.common import FORMAT, connection, database, emit, fail_cleanly, settings
from cli.reveal import audit_reveal
from cli.views import CONFIDENTIAL, case_lines, local_time, masked_case


@click.group()
def cases() -> None:
    """Cases (a terminal view until the officers' console exists); times in the unit's zone."""


@cases.command("list")
@click.option("--status", help="Only cases in this status (an unknown one is refused with the valid ones).")
@click.option("--unit", help="Only cases routed to this work unit (its key in routing.toml).")
@click.option("--channel", help="Only cases that came by this channel (an installed connector).")
@click.option(
    "--in-person", is_flag=True, help="Only cases whose tracking number no channel could take: give it in person."
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--reveal", is_flag=True, help="Show the subjects of confidential cases too.")
@FORMAT
@click.pass_context
@fail_cleanly
def cases_list(
    ctx: click.Context,
    status: str | None,
    unit: str | None,
    channel: str | None,
    in_person: bool,
    limit: int,
    reveal: bool,
    output: str,
) -> None:
    """Newest cases first; a confidential case's subject shows as [rahasia] unless --reveal. The
    receipt column names the channel the receipt went by, or "in-person" when none could reach the
    reporter and the officer must give the tracking number (in JSON: ``receipt_via`` null)."""
    from storage.cases import CaseFilter, list_cases

    with connection(ctx) as reader:
        _refuse_unknown(reader, status=status, unit=unit, channel=channel)
        found = list_cases(
            reader, CaseFilter(status=status, unit=unit, channel=channel, in_person=in_person, limit=limit)
        )
    zone = settings(ctx).zone
    rows = [row if reveal or not row["confidential"] else {**row, "subject": CONFIDENTIAL} for row in found]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no cases")
        for row in data:
            click.echo(
                f"{row['tracking_number']:<16} {row['kind']:<20} {row['unit']:<14} {row['status']:<10} "
                f"{row['priority']:<6} {row['channel']:<8} {row['receipt_via'] or 'in-person':<9} "
                f"due {local_time(row['first_response_due'], zone)}  "
                f"{row['subject'][:50]}"
            )

    emit(rows, output == "json", table, zone)


def _refuse_unknown(reader: Connection, **wanted: str | None) -> None:
    """A filter value nothing can have is a typo, not "no cases": refuse it and list the valid
    ones. Valid: what the code gives cases (statuses), the unit table (units, synced from the
    routing file), the installed connectors (channels), and whatever a stored case already has
    (a unit dropped from routing.toml, a connector since uninstalled)."""
    from storage.tables import CASES

    for column, value in wanted.items():
        if not value or value in (known := _known(reader, column)):
            continue
        if reader.execute(select(CASES.c.id).where(CASES.c[column] == value).limit(1)).first() is None:
            valid = ", ".join(sorted(known)) or "(none yet)"
            raise click.BadParameter(f"{value!r} is not a case {column} here; valid: {valid}", param_hint=f"--{column}")


def _known(reader: Connection, column: str) -> Collection[str]:
    if column == "unit":
        from storage.tables import UNITS

        return set(reader.execute(select(UNITS.c.key)).scalars())
    if column == "channel":
        from connectors.registry import discover

        return discover().keys()
    from storage.models import CASE_STATUSES

    return set(CASE_STATUSES)


@cases.command("show")
@click.argument("reference")
@click.option("--reveal", is_flag=True, help="Show the reporter of a confidential case (recorded in its audit trail).")
@FORMAT
@click.pass_context
@fail_cleanly
def cases_show(ctx: click.Context, reference: str, reveal: bool, output: str) -> None:
    """One case by tracking number or id: its reporter, how the receipt went, the thread with
    attachments, outbox and audit trail. A confidential case's reporter shows as [rahasia] unless
    --reveal."""
    from storage.cases import case_attachments, find_case
    from storage.db import reading

    key = _case_key(reference)
    with database(ctx) as found:
        with reading(found.engine) as reader:
            case = find_case(reader, key)
            if case is not None:
                case["attachments"] = case_attachments(reader, case["id"])
        if case is not None and case["confidential"] and reveal:
            audit_reveal(found.engine, case["id"])
    if case is None:
        raise click.ClickException(f"{reference}: no such case")
    if case["confidential"] and not reveal:
        case = masked_case(case)
    zone = settings(ctx).zone
    emit(case, output == "json", lambda data: click.echo("\n".join(case_lines(data, zone))), zone)


def _case_key(reference: str) -> str:
    """What to look a case up by; a tracking number whose check digit fails is a typo to point out,
    not a case that does not exist."""
    from triage.tracking import parse_tracking_number

    tracking = parse_tracking_number(reference)
    if tracking is not None:
        return str(tracking)
    text = reference.strip()
    if text[-1:].isdigit() and any(parse_tracking_number(text[:-1] + digit) for digit in "0123456789"):
        raise click.ClickException(f"{reference}: the check digit does not match (mistyped?)")
    return text
