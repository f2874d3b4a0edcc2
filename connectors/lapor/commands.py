"""``satupintu lapor follow-ups --since DATE``: what the unit wrote on LAPOR! cases, for an admin
to paste into the LAPOR! dashboard (text) or keep as a sheet (CSV), until the API is open to it."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, and_, select

from cli.common import EXIT_CONFIG, FORMAT, connection, emit, fail_cleanly, parts, settings
from cli.views import local_time
from connectors.base import ConnectorError
from connectors.lapor.client import Disposition
from connectors.lapor.connector import CHANNEL, LaporConnector
from storage.tables import CASES, OUTBOX

EXIT_UNREACHABLE = 3
CSV_COLUMNS = ("lapor_tracking_id", "tracking_number", "written_at", "purpose", "state", "text")


@click.group()
def lapor() -> None:
    """SP4N-LAPOR!: follow-ups to post on the platform (import reports with `satupintu import lapor`)."""


@lapor.command("follow-ups")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="From this day (the unit's zone).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="text: blocks to paste into LAPOR!; csv: a sheet; json: for scripts (times in ISO 8601).",
)
@click.option("--output", "target", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
@click.pass_context
@fail_cleanly
def follow_ups(ctx: click.Context, since: datetime, output: str, target: Path | None) -> None:
    """Every follow-up written on a LAPOR! case since DATE, oldest first, with LAPOR!'s tracking ID
    beside ours: sent by the API, or (no API access) to post by hand."""
    zone = settings(ctx).zone
    start = datetime.combine(since.date(), time(), tzinfo=zone)
    with connection(ctx) as reader:
        rows = written_since(reader, start)
    if output != "json":  # JSON keeps the moment, in ISO 8601 with its offset (``to_json``)
        for row in rows:
            row["written_at"] = local_time(row["written_at"], zone)
    if output == "json":
        text = None
        if target is None:
            emit(rows, True, lambda _: None, zone)
            return
        from cli.views import to_json

        text = to_json(rows, zone)
    else:
        text = as_csv(rows) if output == "csv" else as_text(rows)
    if target is None:
        click.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} follow-ups written to {target}", err=True)


@lapor.command("pull")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only reports disposed from this day.")
@FORMAT
@click.pass_context
@fail_cleanly
def pull(ctx: click.Context, since: datetime | None, output: str) -> None:
    """Fetch the reports LAPOR! disposed to the unit through its API (needs api_url), stored as an
    import of the export would store them: a report already taken, unchanged, adds nothing."""
    from pipeline.imports import store_rows

    found = parts(ctx)
    connector = found.connectors().get(CHANNEL)
    if not isinstance(connector, LaporConnector):
        click.echo(
            "satupintu lapor pull: the lapor channel is not enabled: set [connectors.lapor] enabled = true", err=True
        )
        sys.exit(EXIT_CONFIG)
    missing = [key for key in ("api_url", "api_token") if not getattr(connector.config, key)]
    client = connector.client()
    if missing or client is None:
        said = " and ".join(f"connectors.lapor.{key}" for key in missing)
        click.echo(f"satupintu lapor pull: {said} not set (the unit's LAPOR! API access): set it first", err=True)
        sys.exit(EXIT_CONFIG)
    zone = settings(ctx).zone
    start = datetime.combine(since.date(), time(), tzinfo=zone) if since else None

    async def fetch() -> list[Disposition]:
        try:
            return await client.dispositions(start)
        finally:
            await client.close()

    try:
        dispositions = asyncio.run(fetch())
    except ConnectorError as exc:
        click.echo(f"satupintu lapor pull: {exc}", err=True)
        sys.exit(EXIT_UNREACHABLE)
    found.prepare_database()
    publisher = None if found.topology.is_memory else found.publisher()
    try:
        report = store_rows(
            CHANNEL, Path("lapor-api"), connector.disposition_rows(dispositions), found.engine, publisher
        )
    finally:
        if publisher is not None:
            publisher.close()
        found.engine.dispose()
    emit(report.to_dict(), output == "json", _pulled)
    if report.rejected:
        sys.exit(1)


def _pulled(report: dict[str, Any]) -> None:
    for row in report["rows"]:
        if row["outcome"] == "rejected":
            click.echo(f"report {row['line']}: {row['reason']}")
    totals = report["totals"]
    click.echo(
        f"SP4N-LAPOR!: {totals['accepted']} new, {totals['already_imported']} already imported, "
        f"{totals['rejected']} rejected"
    )


def written_since(reader: Connection, start: datetime) -> list[dict[str, Any]]:
    """The unit's messages on LAPOR! cases (everything but the receipt, which LAPOR! gave)."""
    statement = (
        select(
            CASES.c.external_ref.label("lapor_tracking_id"),
            CASES.c.tracking_number,
            OUTBOX.c.created_at.label("written_at"),
            OUTBOX.c.purpose,
            OUTBOX.c.state,
            OUTBOX.c.error,
            OUTBOX.c.body.label("text"),
        )
        .select_from(OUTBOX.join(CASES, CASES.c.id == OUTBOX.c.case_id))
        .where(and_(CASES.c.channel == CHANNEL, OUTBOX.c.purpose != "receipt", OUTBOX.c.created_at >= start))
        .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
    )
    rows = []
    for row in reader.execute(statement).mappings():
        found = dict(row)
        found["state"] = "sent by the API" if found["state"] == "sent" else "to post on LAPOR! by hand"
        found.pop("error")
        rows.append(found)
    return rows


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in CSV_COLUMNS} for row in rows)
    return buffer.getvalue()


def as_text(rows: list[dict[str, Any]]) -> str:
    """One block per follow-up, ready to paste into the report's page on LAPOR!."""
    if not rows:
        return "no follow-ups in this period\n"
    blocks = [
        f"== LAPOR! {row['lapor_tracking_id']} (kami: {row['tracking_number']}), {row['written_at']}, "
        f"{row['purpose']}, {row['state']}\n{row['text'].strip()}\n"
        for row in rows
    ]
    return "\n".join(blocks)


COMMANDS = [lapor]
