"""``satupintu identities suggestions|link|unlink``: the same person across channels, as an
officer confirms it. What a channel proves links by itself (``storage/identities.py``); a number
an officer typed or a contact given in a form only ever becomes a suggestion here."""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.common import EXIT_NOT_FOUND, FORMAT, connection, database, emit, fail_cleanly, settings
from cli.reveal import actor
from cli.views import local_time

BY = click.option("--by", "by", default=None, help="Who acts, for the audit trail (default: cli:<your login>).")


@click.group()
def identities() -> None:
    """The same person across channels: suggestions to confirm, links to make or undo."""


@identities.command("suggestions")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@FORMAT
@click.pass_context
@fail_cleanly
def identities_suggestions(ctx: click.Context, limit: int, output: str) -> None:
    """Identities a message gave that belong to another reporter (a number an officer typed, a
    contact in a form): link the two with `identities link ID` when they are one person."""
    from storage.identities import suggestions

    with connection(ctx) as reader:
        rows = suggestions(reader, limit)
    zone = settings(ctx).zone

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no suggestions")
        for row in data:
            proven = "proven" if row["other_proven"] else "typed"
            click.echo(
                f"{row['id']:>6}  {local_time(row['created_at'], zone)}  {row['kind']} {row['value']}: "
                f"reporter {row['reporter_id']} ({_cases(row['reporter_cases'])}) gave it; it is "
                f"reporter {row['other_id']}'s ({proven}; {_cases(row['other_cases'])})"
            )

    emit(rows, output == "json", table, zone)


def _cases(numbers: list[str]) -> str:
    return ", ".join(numbers) or "no case"


@identities.command("link")
@click.argument("suggestion", type=int)
@BY
@click.pass_context
@fail_cleanly
def identities_link(ctx: click.Context, suggestion: int, by: str | None) -> None:
    """Confirm a suggestion: its two reporters are one person (their cases thread together, and
    either may ask the other's status). `identities unlink` undoes it."""
    from storage.db import transaction
    from storage.identities import claim, link, persons

    with database(ctx) as found, transaction(found.engine) as writer:
        claimed = claim(writer, suggestion)
        if claimed is None or claimed["other_id"] is None:
            click.echo(f"no suggestion {suggestion}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        reporter, other = int(claimed["reporter_id"]), int(claimed["other_id"])
        person = persons(writer, [reporter, other])
        if person[reporter] == person[other]:
            click.echo(f"suggestion {suggestion}: reporters {reporter} and {other} are one person already")
            return
        evidence = {"suggestion": suggestion, "identity": claimed["kind"]}
        link_id = link(writer, reporter, other, "officer", evidence, by or actor())
    click.echo(f"linked reporters {reporter} and {other} (link {link_id}; `identities unlink {link_id}` undoes it)")


@identities.command("unlink")
@click.argument("link_id", type=int)
@BY
@click.pass_context
@fail_cleanly
def identities_unlink(ctx: click.Context, link_id: int, by: str | None) -> None:
    """Undo a link (one an officer made, or one a channel proved): the reporters are apart again."""
    from storage.db import transaction
    from storage.identities import unlink

    with database(ctx) as found, transaction(found.engine) as writer:
        removed = unlink(writer, link_id, by or actor())
    if removed is None:
        click.echo(f"no link {link_id} in force", err=True)
        sys.exit(EXIT_NOT_FOUND)
    click.echo(f"unlinked reporters {removed['reporter_id']} and {removed['other_id']} (link {link_id})")
