"""``satupintu status``: the pipeline's backlog and each channel's health at a glance."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from cli.common import FORMAT, connection, emit, fail_cleanly, settings
from cli.views import local_time


@click.command()
@FORMAT
@click.pass_context
@fail_cleanly
def status(ctx: click.Context, output: str) -> None:
    """The pipeline's backlog (raw messages and outbox rows per state) and each channel's health:
    its pull loops (who runs them, the last success, the last error) and whether it can send."""
    from pipeline.delivery import read_send_health
    from pipeline.pull import read_health
    from storage.cases import count_by_state

    zone = settings(ctx).zone
    with connection(ctx) as reader:
        data: dict[str, Any] = {
            **count_by_state(reader),
            "pull": [asdict(health) for health in read_health(reader)],
            "send": read_send_health(reader),
        }

    def table(data: dict[str, Any]) -> None:
        for record in ("raw_message", "outbox"):
            states = data[record]
            click.echo(f"{record}: " + (", ".join(f"{s}={n}" for s, n in sorted(states.items())) or "empty"))
        for pull in data["pull"]:
            click.echo(_pull_line(pull, zone))
        for send in data["send"]:
            since = local_time(datetime.fromisoformat(send["at"]), zone)
            why = f": {send['reason']}" if send.get("reason") else ""
            click.echo(f"send {send['channel']}: {send['state']} since {since}{why}")

    emit(data, output == "json", table, zone)


def _pull_line(pull: dict[str, Any], zone: ZoneInfo) -> str:
    """One pull source: red states first catch the eye, the last error says why."""
    parts = [f"pull {pull['channel']}/{pull['source']}: {pull['state']}"]
    parts.append(f"run by {pull['holder']}" if pull["holder"] else "run by no process")
    parts.append(f"last success {local_time(pull['last_success_at'], zone)}")
    if pull["behind"]:
        parts.append(f"{pull['behind']} behind")
    if pull["failures"]:
        parts.append(
            f"{pull['failures']} failures, last {local_time(pull['last_error_at'], zone)}: {pull['last_error']}"
        )
    return ", ".join(parts)
