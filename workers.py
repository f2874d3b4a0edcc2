"""The command line: every daemon and admin command starts here (``satupintu --help``)."""

from __future__ import annotations

import errno
import getpass
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from config.routing import RoutingConfigError
from config.settings import ConfigError, Settings, effective_config, load_settings
from connectors.base import ConnectorConfigError
from pipeline.startup import bind_problem, check_port, database_problem, require_schema
from cli.views import CONFIDENTIAL, case_lines, local_time, masked_case, to_json

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CONFIG = 2
EXIT_NOT_FOUND = 1


def _fail_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """A configuration or start-up problem (bad value, database unreachable or not migrated, port
    taken) ends with one line naming the key and exit code 2, not a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, ConnectorConfigError, RoutingConfigError) as exc:
            message = str(exc)
        except (OperationalError, ProgrammingError) as exc:
            message = database_problem(exc, _database_url())
        click.echo(f"satupintu: {message}", err=True)
        sys.exit(EXIT_CONFIG)

    return wrapper


def _database_url() -> str | None:
    ctx = click.get_current_context(silent=True)
    settings: Settings | None = ctx.obj.get("settings") if ctx and isinstance(ctx.obj, dict) else None
    return settings.database_url if settings else None


def _serve(parts: Any, components: Iterable[str]) -> None:
    """Run until signalled; a bind lost to another process since ``check_port`` is still one line."""
    from pipeline.app import run_until_signalled

    try:
        run_until_signalled(parts, components)
    except OSError as exc:
        if exc.errno not in {errno.EADDRINUSE, errno.EADDRNOTAVAIL}:
            raise
        raise ConfigError(bind_problem(parts.settings.http, exc)) from None


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
def _database(ctx: click.Context) -> Iterator[Any]:
    """The parts of an admin command, on a database at this version's schema; disposed after."""
    parts = _parts(ctx)
    try:
        require_schema(parts.engine)
        yield parts
    finally:
        parts.engine.dispose()


@contextmanager
def _connection(ctx: click.Context) -> Iterator[Connection]:
    """A read-only connection for the listing commands."""
    from storage.db import reading

    with _database(ctx) as parts, reading(parts.engine) as connection:
        yield connection


# --- output ------------------------------------------------------------------------------------

UTC_ZONE = ZoneInfo("UTC")


def _emit(data: Any, as_json: bool, table: Callable[[Any], None], zone: ZoneInfo = UTC_ZONE) -> None:
    if as_json:
        click.echo(to_json(data, zone))
    else:
        table(data)


FORMAT = click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: times are ISO 8601 in the unit's zone (the timezone setting), with their offset.",
)


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
    from pipeline.app import COMPONENTS

    parts = _parts(ctx)
    check_port(parts.settings.http)
    parts.prepare_database()
    _serve(parts, COMPONENTS)


@cli.command()
@click.argument("component", type=click.Choice(["normalizer", "triage", "deliver", "http", "sweeper"]))
@click.pass_context
@_fail_cleanly
def worker(ctx: click.Context, component: str) -> None:
    """Run one component as its own process (run as many copies as the load needs)."""
    parts = _parts(ctx)
    if parts.topology.is_memory:
        raise ConfigError("broker_url: memory:// only works inside `satupintu run`; use filesystem:// or amqp://")
    parts.check_database()
    if component == "http":
        check_port(parts.settings.http)
    _serve(parts, [component])


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
    # memory:// lives inside the running `satupintu run`: leave the new records to its next sweep
    publisher = None if parts.topology.is_memory else parts.publisher()
    try:
        report = import_file(connector, source, parts.engine, publisher)
    finally:
        if publisher is not None:
            publisher.close()
    click.echo(f"{source}: {report.new} new, {report.already_imported} already imported")
    if report.new and publisher is None:
        within = parts.settings.pipeline.sweep_interval_seconds
        click.echo(f"a running satupintu picks them up within {within:g} s, or when it starts")


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
    """Every installed connector, whether the config enables it, and what is wrong with its section."""
    from connectors.registry import discover

    sections = _settings(ctx).connectors
    installed = discover()
    rows = [_connector_row(name, cls, sections.get(name)) for name, cls in sorted(installed.items())]
    rows += [_unknown_connector_row(name) for name in sorted(set(sections) - set(installed))]

    def table(data: list[dict[str, Any]]) -> None:
        for row in data:
            state = "error" if row["error"] else "enabled" if row["enabled"] else "disabled"
            click.echo(f"{row['name']:<14} {state:<9} {row['inbound']:<8} {row['error'] or row['display_name']}")

    _emit(rows, output == "json", table)


def _connector_row(name: str, cls: Any, section: dict[str, Any] | None) -> dict[str, Any]:
    enabled, error = _connector_enabled(name, cls, section)
    return {
        "name": name,
        "display_name": cls.spec.display_name,
        "inbound": cls.spec.inbound,
        "enabled": enabled,
        "error": error,
        "event_types": sorted(cls.spec.event_types),
        "capabilities": sorted(cls.spec.capabilities),
        "module": cls.__module__,
    }


def _connector_enabled(name: str, cls: Any, section: dict[str, Any] | None) -> tuple[bool, str | None]:
    """Decide as start-up does: no section is not configured, and the connector's own config model
    reads the section (``"false"`` from the environment is false; a bad value is reported)."""
    if section is None:
        return False, None
    try:
        return bool(cls.config_model.model_validate(section).enabled), None
    except ValidationError as exc:
        return False, "; ".join(
            f"connectors.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )


def _unknown_connector_row(name: str) -> dict[str, Any]:
    """A section naming no installed connector stops start-up; the list shows it rather than hide it."""
    return {
        "name": name,
        "display_name": "",
        "inbound": "",
        "enabled": False,
        "error": f"connectors.{name}: no such connector",
        "event_types": [],
        "capabilities": [],
        "module": None,
    }


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

    _emit(entries, output == "json", table, _settings(ctx).zone)


def _slots(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


@dlq.command("show")
@click.argument("ref")
@click.pass_context
@_fail_cleanly
def dlq_show(ctx: click.Context, ref: str) -> None:
    """Show one dead message with its reason and payload preview (JSON, times in the unit's zone)."""
    from storage.dead import show_dead

    with _connection(ctx) as connection:
        found = _checked_ref(lambda: show_dead(connection, ref))
    if found is None:
        raise click.ClickException(f"{ref}: not found")
    click.echo(to_json(found, _settings(ctx).zone))


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
    """Send dead messages back to the step they failed at (fix the cause first).

    With the in-process queue (memory://) this process cannot reach the running `satupintu run`'s
    queue: the messages are marked for its next sweep instead.
    """
    from storage.db import transaction
    from storage.dead import replay

    with _database(ctx) as parts:
        memory = parts.topology.is_memory
        publisher = None if memory else parts.publisher()
        missing = 0
        try:
            for ref in refs:
                with transaction(parts.engine) as connection:
                    replayed = _checked_ref(partial(replay, connection, ref, published=publisher is not None))
                if replayed is None:
                    click.echo(f"{ref}: not a dead message", err=True)
                    missing += 1
                elif publisher is None:
                    within = parts.settings.pipeline.sweep_interval_seconds
                    click.echo(f"replayed {ref}: the running satupintu picks it up within {within:g} s")
                else:
                    click.echo(f"{ref}: replayed to {_publish_replay(publisher, *replayed)}")
        finally:
            if publisher is not None:
                publisher.close()
    if missing:
        sys.exit(EXIT_NOT_FOUND)


def _publish_replay(publisher: Any, record: str, number: int, channel: str, state: str) -> str:
    """Publish the work item of a replayed message; returns the step it went to."""
    from envelopes import WorkItem

    step = "deliver" if record == "outbox" else ("triage" if state == "normalized" else "normalize")
    publisher.publish([(WorkItem(step=step, record=record, ids=(number,)), channel)])
    return step


@cli.group()
def cases() -> None:
    """Cases (a terminal view until the officers' console exists); times in the unit's zone."""


REVEAL_SUBJECTS = click.option("--reveal", is_flag=True, help="Show the subjects of confidential cases too.")


@cases.command("list")
@click.option("--status")
@click.option("--unit")
@click.option("--channel")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@REVEAL_SUBJECTS
@FORMAT
@click.pass_context
@_fail_cleanly
def cases_list(
    ctx: click.Context,
    status: str | None,
    unit: str | None,
    channel: str | None,
    limit: int,
    reveal: bool,
    output: str,
) -> None:
    """Newest cases first; a confidential case's subject shows as [rahasia] unless --reveal."""
    from storage.cases import CaseFilter, list_cases

    with _connection(ctx) as connection:
        found = list_cases(connection, CaseFilter(status=status, unit=unit, channel=channel, limit=limit))
    zone = _settings(ctx).zone
    rows = [row if reveal or not row["confidential"] else {**row, "subject": CONFIDENTIAL} for row in found]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no cases")
        for row in data:
            click.echo(
                f"{row['tracking_number']:<16} {row['kind']:<20} {row['unit']:<14} {row['status']:<10} "
                f"{row['priority']:<6} {row['channel']:<8} due {local_time(row['first_response_due'], zone)}  "
                f"{row['subject'][:50]}"
            )

    _emit(rows, output == "json", table, zone)


@cases.command("show")
@click.argument("reference")
@click.option("--reveal", is_flag=True, help="Show the reporter of a confidential case (recorded in its audit trail).")
@FORMAT
@click.pass_context
@_fail_cleanly
def cases_show(ctx: click.Context, reference: str, reveal: bool, output: str) -> None:
    """One case by tracking number or id: its reporter, thread with attachments, outbox and audit
    trail. A confidential case's reporter shows as [rahasia] unless --reveal."""
    from storage.cases import case_attachments, case_reporter, find_case
    from storage.db import reading

    key = _case_key(reference)
    with _database(ctx) as parts:
        with reading(parts.engine) as connection:
            case = find_case(connection, key)
            if case is not None:
                case["reporter"] = case_reporter(connection, case["reporter_id"])
                case["attachments"] = case_attachments(connection, case["id"])
        if case is not None and case["confidential"] and reveal:
            _audit_reveal(parts.engine, case["id"])
    if case is None:
        raise click.ClickException(f"{reference}: no such case")
    if case["confidential"] and not reveal:
        case = masked_case(case)
    zone = _settings(ctx).zone
    _emit(case, output == "json", lambda data: click.echo("\n".join(case_lines(data, zone))), zone)


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


def _audit_reveal(engine: Engine, case_id: int) -> None:
    """DESIGN: every view of a confidential case's reporter is audited; no record, no view."""
    from storage.cases import record_events
    from storage.db import transaction

    event = {"case_id": case_id, "actor": f"cli:{_os_user()}", "action": "reporter_revealed", "detail": {}}
    with transaction(engine) as connection:
        record_events(connection, [event])


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


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
            click.echo(f"{record}: " + (", ".join(f"{s}={n}" for s, n in sorted(states.items())) or "empty"))

    _emit(counts, output == "json", table)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
