"""The command line: every daemon and admin command starts here (``satupintu --help``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from config.routing import RoutingConfigError
from config.settings import ConfigError, Settings, effective_config, load_settings
from connectors.base import ConnectorConfigError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CONFIG = 2
EXIT_NOT_FOUND = 1


def _fail_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """A configuration problem ends with one line naming the key and exit code 2, not a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, ConnectorConfigError, RoutingConfigError) as exc:
            click.echo(f"satupintu: {exc}", err=True)
            sys.exit(EXIT_CONFIG)

    return wrapper


def _settings(ctx: click.Context) -> Settings:
    settings: Settings | None = ctx.obj.get("settings")
    if settings is None:
        settings = load_settings(ctx.obj.get("config_file"))
        from pipeline.logs import configure_logging

        configure_logging(settings.log)
        ctx.obj["settings"] = settings
    return settings


def _parts(ctx: click.Context) -> Any:
    from pipeline.app import Parts

    return Parts.from_settings(_settings(ctx))


@contextmanager
def _connection(ctx: click.Context) -> Iterator[Any]:
    """A read-only connection for the listing commands."""
    from storage.db import reading

    parts = _parts(ctx)
    try:
        with reading(parts.engine) as connection:
            yield connection
    finally:
        parts.engine.dispose()


def _emit(data: Any, as_json: bool, table: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, default=_json_default, ensure_ascii=False, indent=2))
    else:
        table(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


FORMAT = click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    envvar="SATUPINTU_CONFIG",
    help="A TOML file overriding config/satupintu.toml (SATUPINTU_* variables override both).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """satupintu: one door for every complaint, whatever channel it came by."""
    ctx.ensure_object(dict)
    ctx.obj["config_file"] = config_file


@cli.command()
@click.pass_context
@_fail_cleanly
def run(ctx: click.Context) -> None:
    """Migrate, then run every stage, the sweeper and the HTTP server in one process."""
    from pipeline.app import COMPONENTS, run_until_signalled

    parts = _parts(ctx)
    parts.prepare_database()
    run_until_signalled(parts, COMPONENTS)


@cli.command()
@click.argument("component", type=click.Choice(["normalizer", "triage", "deliver", "http", "sweeper"]))
@click.pass_context
@_fail_cleanly
def worker(ctx: click.Context, component: str) -> None:
    """Run one component as its own process (run as many copies as the load needs)."""
    from pipeline.app import run_until_signalled

    parts = _parts(ctx)
    if parts.topology.is_memory:
        raise ConfigError("broker_url: memory:// only works inside `satupintu run`; use filesystem:// or amqp://")
    parts.check_database()
    run_until_signalled(parts, [component])


@cli.command("import")
@click.argument("channel")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@_fail_cleanly
def import_(ctx: click.Context, channel: str, source: Path) -> None:
    """Import a file through an importing connector (phone logs, walk-in sheets).

    Importing the same file again adds nothing: each record's idempotency key is the ledger.
    """
    from connectors.base import ImportingConnector
    from pipeline.inbound import import_file

    parts = _parts(ctx)
    connector = parts.connectors().get(channel)
    if not isinstance(connector, ImportingConnector):
        raise click.BadParameter(f"{channel!r} is not an enabled importing connector", param_hint="CHANNEL")
    parts.prepare_database()
    publisher = parts.publisher()
    try:
        report = import_file(connector, source, parts.engine, publisher)
    finally:
        publisher.close()
    click.echo(f"{source}: {report.new} new, {report.already_imported} already imported")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@_fail_cleanly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations (the same ones on SQLite and PostgreSQL)."""
    from storage.migrate import current, upgrade
    from storage.units import sync_units

    parts = _parts(ctx)
    upgrade(parts.engine, revision)
    sync_units(parts.engine, parts.routing)
    click.echo(f"database at revision {current(parts.engine)}")


@db.command("current")
@click.pass_context
@_fail_cleanly
def db_current(ctx: click.Context) -> None:
    """Show the schema revision the database is at."""
    from storage.migrate import current

    click.echo(current(_parts(ctx).engine) or "(empty database: run `satupintu db upgrade`)")


@cli.group("config")
def config_group() -> None:
    """Configuration."""


@config_group.command("show")
@click.pass_context
@_fail_cleanly
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration, secrets masked."""
    click.echo(json.dumps(effective_config(_settings(ctx)), indent=2, ensure_ascii=False))


@cli.group()
def connectors() -> None:
    """Channels."""


@connectors.command("list")
@FORMAT
@click.pass_context
@_fail_cleanly
def connectors_list(ctx: click.Context, output: str) -> None:
    """Every installed connector, and whether the config enables it."""
    from connectors.registry import discover

    sections = _settings(ctx).connectors
    rows = [
        {
            "name": name,
            "display_name": cls.spec.display_name,
            "inbound": cls.spec.inbound,
            "enabled": bool(sections.get(name, {}).get("enabled", True)) if name in sections else False,
            "event_types": sorted(cls.spec.event_types),
            "capabilities": sorted(cls.spec.capabilities),
            "module": cls.__module__,
        }
        for name, cls in sorted(discover().items())
    ]

    def table(data: list[dict[str, Any]]) -> None:
        for row in data:
            state = "enabled" if row["enabled"] else "disabled"
            click.echo(f"{row['name']:<14} {state:<9} {row['inbound']:<8} {row['display_name']}")

    _emit(rows, output == "json", table)


@cli.group()
def dlq() -> None:
    """Dead letters: messages parked with the reason they failed."""


@dlq.command("list")
@FORMAT
@click.pass_context
@_fail_cleanly
def dlq_list(ctx: click.Context, output: str) -> None:
    """List dead messages (raw:<id> for inbound, outbox:<id> for outbound)."""
    from storage.dead import list_dead

    with _connection(ctx) as connection:
        entries = [_slots(e) for e in list_dead(connection)]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no dead messages")
        for row in data:
            click.echo(f"{row['ref']:<14} {row['channel']:<10} attempts={row['attempts']:<3} {row['reason'][:100]}")

    _emit(entries, output == "json", table)


def _slots(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


@dlq.command("show")
@click.argument("ref")
@click.pass_context
@_fail_cleanly
def dlq_show(ctx: click.Context, ref: str) -> None:
    """Show one dead message with its reason and payload preview."""
    from storage.dead import show_dead

    with _connection(ctx) as connection:
        found = _checked_ref(lambda: show_dead(connection, ref))
    if found is None:
        raise click.ClickException(f"{ref}: not found")
    click.echo(json.dumps(found, default=_json_default, ensure_ascii=False, indent=2))


def _checked_ref(call: Callable[[], R]) -> R:
    try:
        return call()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dlq.command("replay")
@click.argument("refs", nargs=-1, required=True)
@click.pass_context
@_fail_cleanly
def dlq_replay(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Send dead messages back to the step they failed at (fix the cause first)."""
    from pipeline.records import WorkItem
    from storage.db import transaction
    from storage.dead import replay

    parts = _parts(ctx)
    publisher = parts.publisher()
    missing = 0
    for ref in refs:
        with transaction(parts.engine) as connection:
            replayed = _checked_ref(partial(replay, connection, ref))
        if replayed is None:
            click.echo(f"{ref}: not a dead message", err=True)
            missing += 1
            continue
        record, number, channel, state = replayed
        step = "deliver" if record == "outbox" else ("triage" if state == "normalized" else "normalize")
        publisher.publish([(WorkItem(step=step, record=record, ids=(number,)), channel)])
        click.echo(f"{ref}: replayed to {step}")
    publisher.close()
    if missing:
        sys.exit(EXIT_NOT_FOUND)


@cli.group()
def cases() -> None:
    """Cases (a terminal view until the officers' console exists)."""


@cases.command("list")
@click.option("--status")
@click.option("--unit")
@click.option("--channel")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@FORMAT
@click.pass_context
@_fail_cleanly
def cases_list(
    ctx: click.Context, status: str | None, unit: str | None, channel: str | None, limit: int, output: str
) -> None:
    """Newest cases first."""
    from storage.cases import CaseFilter, list_cases

    with _connection(ctx) as connection:
        rows = list_cases(connection, CaseFilter(status=status, unit=unit, channel=channel, limit=limit))

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no cases")
        for row in data:
            subject = "[rahasia]" if row["confidential"] else row["subject"][:50]
            due = row["first_response_due"].strftime("%Y-%m-%d %H:%M")
            click.echo(
                f"{row['tracking_number']:<16} {row['kind']:<20} {row['unit']:<14} {row['status']:<10} "
                f"{row['priority']:<6} {row['channel']:<8} due {due}Z  {subject}"
            )

    _emit(rows, output == "json", table)


@cases.command("show")
@click.argument("reference")
@FORMAT
@click.pass_context
@_fail_cleanly
def cases_show(ctx: click.Context, reference: str, output: str) -> None:
    """One case by tracking number or id, with its thread, outbox and audit trail."""
    from storage.cases import find_case
    from triage.tracking import parse_tracking_number

    tracking = parse_tracking_number(reference)
    with _connection(ctx) as connection:
        case = find_case(connection, str(tracking) if tracking else reference.strip())
    if case is None:
        raise click.ClickException(f"{reference}: no such case")

    def table(data: dict[str, Any]) -> None:
        for key in ("tracking_number", "kind", "unit", "status", "priority", "confidential", "channel", "subject"):
            click.echo(f"{key:<20} {data[key]}")
        click.echo(f"{'routing_rules':<20} {data['routing_rules']}")
        click.echo(f"{'received_at':<20} {data['received_at']:%Y-%m-%d %H:%M}Z")
        click.echo(f"{'first_response_due':<20} {data['first_response_due']:%Y-%m-%d %H:%M}Z")
        click.echo(f"{'resolution_due':<20} {data['resolution_due']:%Y-%m-%d %H:%M}Z")
        for message in data["messages"]:
            click.echo(f"\n--- {message['direction']} {message['channel']} {message['received_at']:%Y-%m-%d %H:%M}Z")
            click.echo(message["text"])
        for row in data["outbox"]:
            click.echo(f"\n=== outbox {row['purpose']} {row['state']} {row['provider_message_id'] or ''}")
        for event in data["events"]:
            click.echo(f"  {event['at']:%Y-%m-%d %H:%M:%S}Z {event['actor']} {event['action']}")

    _emit(case, output == "json", table)


@cli.command()
@FORMAT
@click.pass_context
@_fail_cleanly
def status(ctx: click.Context, output: str) -> None:
    """The pipeline's backlog: raw messages and outbox rows per state."""
    from storage.cases import count_by_state

    with _connection(ctx) as connection:
        counts = count_by_state(connection)

    def table(data: dict[str, dict[str, int]]) -> None:
        for record, states in data.items():
            click.echo(f"{record}: " + ", ".join(f"{s}={n}" for s, n in sorted(states.items())) or "empty")

    _emit(counts, output == "json", table)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
