"""``satupintu officers``: the console's logins (add, set, disable, enable, reset-password, token, list).

A password is typed twice at a hidden prompt, or read from the first line of standard input
with ``--password-stdin`` (for scripts: never as an argument, where ``ps`` and the shell's
history would show it). An API token is printed once, alone on standard output; only its
SHA-256 is kept.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.common import EXIT_NOT_FOUND, FORMAT, connection, database, emit, fail_cleanly, settings
from cli.views import columns, local_time

PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)
NAME = click.argument("name")


@click.group()
def officers() -> None:
    """Who logs in to the console and the API, and with which role."""


@officers.command("add")
@NAME
@click.option(
    "--role",
    type=click.Choice(["admin", "ult", "unit", "auditor"]),
    required=True,
    help="admin; ult (every case); unit (one unit's cases, with --unit); auditor (reads, never changes).",
)
@click.option("--unit", default=None, help="For --role unit: the unit (a key of routing.toml) whose cases they see.")
@click.option("--language", type=click.Choice(["id", "en"]), default=None, help="The console's language for them.")
@PASSWORD_STDIN
@click.pass_context
@fail_cleanly
def officers_add(
    ctx: click.Context, name: str, role: str, unit: str | None, language: str | None, password_stdin: bool
) -> None:
    """Add an officer who logs in as NAME (lowercase: budi.santoso)."""
    from console import accounts
    from storage.db import transaction
    from storage.units import sync_units

    password = _password(password_stdin)
    chosen = language or settings(ctx).console.language
    with database(ctx) as found:
        sync_units(found.engine, found.routing)  # --unit names a unit of this routing.toml
        with transaction(found.engine) as writer:
            officer = _refusing(accounts.add_officer, writer, name, role, unit, password, chosen)
    where = f", unit {officer.unit}" if officer.unit else ""
    click.echo(f"added {officer.name} ({officer.role}{where})")


@officers.command("set")
@NAME
@click.option("--role", type=click.Choice(["admin", "ult", "unit", "auditor"]), default=None, help="A new role.")
@click.option("--unit", default=None, help="A new unit (role unit only).")
@click.option("--language", type=click.Choice(["id", "en"]), default=None, help="The console's language for them.")
@click.pass_context
@fail_cleanly
def officers_set(ctx: click.Context, name: str, role: str | None, unit: str | None, language: str | None) -> None:
    """Change NAME's role, unit or language (a unit officer moved to another unit); it applies
    from their next request."""
    from storage.units import sync_units

    if role is None and unit is None and language is None:
        raise click.UsageError("say what changes: --role, --unit or --language")
    with database(ctx) as found:
        sync_units(found.engine, found.routing)
    officer = _change(ctx, "change", name, role=role, unit=unit, language=language)
    where = f", unit {officer.unit}" if officer.unit else ""
    click.echo(f"{officer.name} is now {officer.role}{where}, language {officer.language}")


@officers.command("disable")
@NAME
@click.pass_context
@fail_cleanly
def officers_disable(ctx: click.Context, name: str) -> None:
    """No more logins for NAME: their sessions end and their API tokens are revoked now."""
    changed = _change(ctx, "disable", name)
    click.echo(f"disabled {name}" if changed else f"{name} was disabled already")


@officers.command("enable")
@NAME
@click.pass_context
@fail_cleanly
def officers_enable(ctx: click.Context, name: str) -> None:
    """Let a disabled officer log in again (their old API tokens stay revoked)."""
    changed = _change(ctx, "enable", name)
    click.echo(f"enabled {name}" if changed else f"{name} was enabled already")


@officers.command("reset-password")
@NAME
@PASSWORD_STDIN
@click.pass_context
@fail_cleanly
def officers_reset_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; their console sessions end."""
    password = _password(password_stdin)
    _change(ctx, "reset_password", name, password)
    click.echo(f"new password set for {name}; their sessions ended")


@officers.command("token")
@NAME
@click.option("--revoke", is_flag=True, help="Revoke every API token of NAME instead of making one.")
@click.pass_context
@fail_cleanly
def officers_token(ctx: click.Context, name: str, revoke: bool) -> None:
    """Print a new API token for NAME (send it as `Authorization: Bearer <token>`); it acts with
    NAME's role and is shown only this once."""
    if revoke:
        count = _change(ctx, "revoke_tokens", name)
        click.echo(f"revoked {count} token{'s' if count != 1 else ''} of {name}")
        return
    click.echo(_change(ctx, "issue_token", name))


@officers.command("list")
@click.option("--unit", default=None, help="Only the officers of this unit.")
@FORMAT
@click.pass_context
@fail_cleanly
def officers_list(ctx: click.Context, unit: str | None, output: str) -> None:
    """Every officer: role, unit, language, whether disabled, active API tokens."""
    from storage.officers import list_officers

    with connection(ctx) as reader:
        rows = list_officers(reader, unit)
    zone = settings(ctx).zone

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no officers (add one: satupintu officers add NAME --role admin)")
            return
        cells = [
            (
                row["name"],
                row["role"],
                row["unit"] or "-",
                row["language"],
                "disabled " + local_time(row["disabled_at"], zone) if row["disabled_at"] else "enabled",
                str(row["tokens"]),
            )
            for row in data
        ]
        for line in columns(("NAME", "ROLE", "UNIT", "LANG", "STATE", "TOKENS"), cells):
            click.echo(line)

    emit(rows, output == "json", table, zone)


def _change(ctx: click.Context, what: str, *args: Any, **options: Any) -> Any:
    """One ``console.accounts`` function in one transaction; a refusal ends with its reason."""
    from console import accounts
    from storage.db import transaction

    with database(ctx) as found, transaction(found.engine) as writer:
        return _refusing(getattr(accounts, what), writer, *args, **options)


def _refusing(function: Any, *args: Any, **options: Any) -> Any:
    from console.accounts import AccountRefused

    try:
        return function(*args, **options)
    except AccountRefused as exc:
        click.echo(f"satupintu: {exc}", err=True)
        sys.exit(EXIT_NOT_FOUND)


def _password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to type a password at: pipe it in with --password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
