"""``satupintu status``: the pipeline's backlog at a glance."""

from __future__ import annotations

import click

from cli.common import FORMAT, connection, emit, fail_cleanly


@click.command()
@FORMAT
@click.pass_context
@fail_cleanly
def status(ctx: click.Context, output: str) -> None:
    """The pipeline's backlog: raw messages and outbox rows per state."""
    from storage.cases import count_by_state

    with connection(ctx) as reader:
        counts = count_by_state(reader)

    def table(data: dict[str, dict[str, int]]) -> None:
        for record, states in data.items():
            click.echo(f"{record}: " + (", ".join(f"{s}={n}" for s, n in sorted(states.items())) or "empty"))

    emit(counts, output == "json", table)
