"""What every command shares: one line and exit code 2 for a start-up problem, the settings and
parts loaded once per invocation, a database at this version's schema, and the output format."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from cli.views import to_json
from config.routing import RoutingConfigError
from config.settings import ConfigError, Settings, load_settings
from connectors.base import ConnectorConfigError
from pipeline.startup import database_problem, require_schema

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CONFIG = 2
EXIT_NOT_FOUND = 1
UTC_ZONE = ZoneInfo("UTC")


def fail_cleanly(command: Callable[P, R]) -> Callable[P, R]:
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
    loaded: Settings | None = ctx.obj.get("settings") if ctx and isinstance(ctx.obj, dict) else None
    return loaded.database_url if loaded else None


def settings(ctx: click.Context) -> Settings:
    """The settings of this invocation, loaded (and logging configured) on first use."""
    loaded: Settings | None = ctx.obj.get("settings")
    if loaded is None:
        loaded = load_settings(ctx.obj.get("config_file"))
        from pipeline.logs import configure_logging

        configure_logging(loaded.log)
        ctx.obj["settings"] = loaded
    return loaded


def parts(ctx: click.Context) -> Any:
    from pipeline.app import Parts

    return Parts.from_settings(settings(ctx))


@contextmanager
def database(ctx: click.Context) -> Iterator[Any]:
    """The parts of an admin command, on a database at this version's schema; disposed after."""
    found = parts(ctx)
    try:
        require_schema(found.engine)
        yield found
    finally:
        found.engine.dispose()


@contextmanager
def connection(ctx: click.Context) -> Iterator[Connection]:
    """A read-only connection for the listing commands."""
    from storage.db import reading

    with database(ctx) as found, reading(found.engine) as reader:
        yield reader


FORMAT = click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: times are ISO 8601 in the unit's zone (the timezone setting), with their offset.",
)


def emit(data: Any, as_json: bool, table: Callable[[Any], None], zone: ZoneInfo = UTC_ZONE) -> None:
    """JSON for scripts, the ``table`` rendering for people."""
    if as_json:
        click.echo(to_json(data, zone))
    else:
        table(data)
