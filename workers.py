"""The command line: every daemon and admin command starts here (``satupintu --help``).

This file is the table of contents; each command group lives in its own module under ``cli/``.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.cases import cases
from cli.config import config_group
from cli.connectors import connectors
from cli.db import db
from cli.dlq import dlq
from cli.imports import import_command
from cli.serve import run, worker
from cli.status import status


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
    db,  # schema migrations
    config_group,  # the effective configuration
    connectors,  # installed channels
    dlq,  # dead letters: list, show, replay
    cases,  # the officers' terminal view
    status,  # the backlog
):
    cli.add_command(command)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
