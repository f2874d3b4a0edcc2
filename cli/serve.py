"""The daemons: ``run`` (everything in one process) and ``worker`` (one component per process)."""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Any

import click

from cli.common import fail_cleanly, parts
from config.settings import ConfigError
from pipeline.app import COMPONENTS, run_until_signalled
from pipeline.startup import bind_problem, check_port


@click.command()
@click.pass_context
@fail_cleanly
def run(ctx: click.Context) -> None:
    """Migrate, then run every stage, the sweeper and the HTTP server in one process."""
    found = parts(ctx)
    check_port(found.settings.http)
    found.prepare_database()
    _serve(found, COMPONENTS)


@click.command()
@click.argument("component", type=click.Choice(COMPONENTS))
@click.pass_context
@fail_cleanly
def worker(ctx: click.Context, component: str) -> None:
    """Run one component as its own process (run as many copies as the load needs)."""
    found = parts(ctx)
    if found.topology.is_memory:
        raise ConfigError("broker_url: memory:// only works inside `satupintu run`; use filesystem:// or amqp://")
    found.check_database()
    if component == "http":
        check_port(found.settings.http)
    _serve(found, [component])


def _serve(found: Any, components: Iterable[str]) -> None:
    """Run until signalled; a bind lost to another process since ``check_port`` is still one line."""
    try:
        run_until_signalled(found, components)
    except OSError as exc:
        if exc.errno not in {errno.EADDRINUSE, errno.EADDRNOTAVAIL}:
            raise
        raise ConfigError(bind_problem(found.settings.http, exc)) from None
