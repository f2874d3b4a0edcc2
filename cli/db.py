"""``satupintu db``: the schema, migrated the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import click

from cli.common import fail_cleanly, parts


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@fail_cleanly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations (the same ones on SQLite and PostgreSQL)."""
    from storage.migrate import current, upgrade
    from storage.units import sync_units

    found = parts(ctx)
    upgrade(found.engine, revision)
    sync_units(found.engine, found.routing)
    click.echo(f"database at revision {current(found.engine)}")


@db.command("current")
@click.pass_context
@fail_cleanly
def db_current(ctx: click.Context) -> None:
    """Show the schema revision the database is at."""
    from storage.migrate import current

    click.echo(current(parts(ctx).engine) or "(empty database: run `satupintu db upgrade`)")
