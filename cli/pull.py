"""``satupintu pull CHANNEL --once``: fetch everything new from a pull channel now, store it, exit.

For backfills and cron. Each source (a mailbox folder) is read under the same lease as the
daemon's loop, stored before its cursor moves, and reported: fetched, stored, already stored,
dead (with why). Exit codes: 0 all stored, 1 something was parked as dead or a source could not
be read, 2 a start-up problem or not a pull channel, 75 (EX_TEMPFAIL) a running process holds a
source's lease (the message names it): that process is already pulling.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import asdict
from typing import Any, NoReturn

import click

from cli.common import EXIT_CONFIG, FORMAT, database, emit, fail_cleanly

EXIT_DEAD = 1
EXIT_HELD = 75


@click.command("pull")
@click.argument("channel")
@click.option("--once", is_flag=True, required=True, help="Fetch what is new now and exit (the only mode).")
@FORMAT
@click.pass_context
@fail_cleanly
def pull_command(ctx: click.Context, channel: str, once: bool, output: str) -> None:
    """Fetch everything new from CHANNEL's sources now (every folder of every account), store it
    and exit with a report per source. A daemon holding a source's lease: exit 75, naming it."""
    from connectors.base import PullInbound
    from pipeline.pull import LeaseHeld

    with database(ctx) as found:
        connector = found.connectors().get(channel)
        if not isinstance(connector, PullInbound) or not connector.pull_sources():
            _refuse(f"{channel!r} is not an enabled channel with sources to pull; {_pullable(found)}")
        try:
            reports = asyncio.run(_pull(found, channel, connector))
        except LeaseHeld as exc:
            click.echo(f"satupintu pull: {exc}; it is pulling already (try again when it stops)", err=True)
            sys.exit(EXIT_HELD)
    data = {"channel": channel, "sources": [asdict(r) for r in reports]}
    emit(data, output == "json", _table)
    failed = [r for r in reports if r.dead or r.error]
    if failed:
        dead = sum(len(r.dead) for r in reports)
        unread = [r.source for r in reports if r.error]
        said = [f"{dead} message(s) parked as dead (satupintu dlq list)"] if dead else []
        said += [f"could not read {', '.join(unread)}"] if unread else []
        click.echo(f"satupintu pull: {'; '.join(said)}", err=True)
        sys.exit(EXIT_DEAD)


async def _pull(found: Any, channel: str, connector: Any) -> list[Any]:
    from pipeline.ingest import Ingestor
    from pipeline.pull import PullLoop, parse_failure
    from pipeline.queues import Publisher
    from storage.blobs import BlobStore

    class SweeperOnly(Publisher):
        """``memory://`` lives inside the running ``satupintu run``: what is stored is left to its
        next sweep, not published into this short-lived process."""

        def has_room(self, records: int) -> bool:
            return False

    settings = found.settings
    publisher = SweeperOnly(found.topology, found.channels) if found.topology.is_memory else found.publisher()
    ingest = Ingestor(found.engine, publisher, BlobStore(settings.blob_dir))
    await connector.start()
    try:
        reports = []
        for source in connector.pull_sources():
            loop = PullLoop(channel, connector, source, ingest, found.engine, settings.pull)
            reports.append(await loop.once(parse_failure(connector)))
        return reports
    finally:
        await connector.stop()
        await asyncio.to_thread(ingest.close)


def _pullable(found: Any) -> str:
    """The channels ``pull`` takes: the enabled ones, else the installed ones to enable."""
    from connectors.base import PullInbound
    from connectors.registry import discover

    enabled = sorted(n for n, c in found.connectors().items() if isinstance(c, PullInbound) and c.pull_sources())
    if enabled:
        return f"channels that can be pulled: {', '.join(enabled)}"
    installed = sorted(n for n, c in discover().items() if "pull" in c.spec.roles)
    if not installed:
        return "no installed channel is pulled"
    return f"no pull channel is enabled (installed: {', '.join(installed)}; set [connectors.NAME] enabled = true)"


def _refuse(message: str) -> NoReturn:
    click.echo(f"satupintu pull: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def _table(data: dict[str, Any]) -> None:
    for report in data["sources"]:
        line = (
            f"{data['channel']}/{report['source']}: {report['fetched']} fetched, {report['stored']} stored, "
            f"{report['already_stored']} already stored, {len(report['dead'])} dead"
        )
        click.echo(line + (f"; not read: {report['error']}" if report["error"] else ""))
        for dead in report["dead"]:
            click.echo(f"  dead: raw message {dead['raw_message_id']}: {dead['reason']}")
