"""``satupintu import CHANNEL FILE``: a file through an importing connector, with a report per row.

Exit codes: 0 every row taken (or already imported), 1 some row rejected, 2 the input cannot be
used at all (no such file, over the limits, not an importing connector) or a start-up problem.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from cli.common import EXIT_CONFIG, FORMAT, emit, fail_cleanly, parts, settings

EXIT_REJECTED = 1


@click.command("import")
@click.argument("channel")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@FORMAT
@click.pass_context
@fail_cleanly
def import_command(ctx: click.Context, channel: str, source: Path, output: str) -> None:
    """Import a file through an importing connector (phone logs, walk-in sheets).

    Importing the same file again adds nothing: each record's idempotency key is the ledger.
    Every rejected row is listed with its line, column and reason.
    """
    from connectors.base import ImportInbound
    from pipeline.imports import ImportRefused, read_rows, store_rows

    found = parts(ctx)
    connector = found.connectors().get(channel)
    if not isinstance(connector, ImportInbound):
        _refuse(f"{channel!r} is not an enabled importing connector")
    try:
        rows = read_rows(connector, source, settings(ctx).imports)
    except ImportRefused as exc:
        _refuse(str(exc))
    found.prepare_database()
    # memory:// lives inside the running `satupintu run`: leave the new records to its next sweep
    publisher = None if found.topology.is_memory else found.publisher()
    try:
        with _progress(len(rows)) as advance:
            report = store_rows(channel, source, rows, found.engine, publisher, advance)
    finally:
        if publisher is not None:
            publisher.close()
        found.engine.dispose()
    emit(report.to_dict(), output == "json", _table)
    if report.totals["accepted"] and publisher is None:
        within = found.settings.pipeline.sweep_interval_seconds
        click.echo(f"a running satupintu picks them up within {within:g} s, or when it starts", err=output == "json")
    if report.rejected:
        sys.exit(EXIT_REJECTED)


def _refuse(message: str) -> NoReturn:
    click.echo(f"satupintu import: {message}", err=True)
    sys.exit(EXIT_CONFIG)


@contextmanager
def _progress(length: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal; scripts and logs get none."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length, label="importing", file=sys.stderr) as bar:
        yield bar.update


def _table(report: dict[str, Any]) -> None:
    for row in report["rows"]:
        if row["outcome"] == "rejected":
            click.echo(f"{_where(row)}: {row['reason']}")
    totals = report["totals"]
    click.echo(
        f"{report['source']}: {totals['accepted']} accepted, {totals['already_imported']} already imported, "
        f"{totals['rejected']} rejected"
    )


def _where(row: dict[str, Any]) -> str:
    """``line 5`` of a text file (the header counted); ``sheet Oktober, row 5`` of a workbook."""
    place = [f"row {row['line']}" if row["sheet"] else f"line {row['line']}"]
    if row["sheet"]:
        place.insert(0, f"sheet {row['sheet']}")
    if row["column"]:
        place.append(f"column {row['column']}")
    return ", ".join(place)
