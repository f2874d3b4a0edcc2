"""The command line: every daemon and admin command starts here (``satupintu --help``).

This file is the table of contents; each command group lives in its own module under ``cli/``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import click

from cli.calendar import calendar_group
from cli.cases import cases
from cli.config import config_group
from cli.connectors import connectors
from cli.db import db
from cli.dlq import dlq
from cli.identities import identities
from cli.imports import import_command
from cli.officers import officers
from cli.pull import pull_command
from cli.queue import queue_group
from cli.report import report_group
from cli.serve import run, worker
from cli.status import status
from cli.triage import triage_group


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


for command in (
    run,  # every component in one process
    worker,  # one component per process
    import_command,  # a file through an importing connector
    pull_command,  # a pull channel's sources fetched now (backfills, cron)
    db,  # schema migrations
    config_group,  # the effective configuration
    connectors,  # installed channels
    dlq,  # dead letters: list, show, replay
    cases,  # the officers' terminal view
    officers,  # the console's logins, roles and API tokens
    identities,  # the same person across channels: suggestions, links
    status,  # the backlog
    calendar_group,  # working days and deadlines
    queue_group,  # the walk-in desk's queue numbers
    report_group,  # the SKM index and the queue's figures
    triage_group,  # the classifier on a file: classify, eval
):
    cli.add_command(command)


def _connector_commands() -> None:
    """A built-in channel's own commands (``connectors/<name>/commands.py``, a list ``COMMANDS``),
    so that a new channel adds its commands without touching this file."""
    from connectors.registry import builtin_names

    for name in builtin_names():
        if importlib.util.find_spec(f"connectors.{name}.commands") is None:
            continue
        module = importlib.import_module(f"connectors.{name}.commands")
        for command in module.COMMANDS:
            if command.name in cli.commands:
                raise RuntimeError(f"connectors/{name}/commands.py: the command {command.name!r} is taken")
            cli.add_command(command)


_connector_commands()


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
