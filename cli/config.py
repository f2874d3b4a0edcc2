"""``satupintu config``: what the process will run with, secrets masked."""

from __future__ import annotations

import json

import click

from cli.common import fail_cleanly, settings
from config.settings import effective_config


@click.group("config")
def config_group() -> None:
    """Configuration."""


@config_group.command("show")
@click.pass_context
@fail_cleanly
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration, secrets masked, paths absolute."""
    click.echo(json.dumps(effective_config(settings(ctx)), indent=2, ensure_ascii=False))
