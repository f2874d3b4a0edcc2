"""``satupintu dlq``: messages parked as dead, why, and sending them back once the cause is fixed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from cli.common import EXIT_NOT_FOUND, FORMAT, connection, database, emit, fail_cleanly, settings
from cli.reveal import actor, audit_reveal
from cli.views import masked_dead, to_json

R = TypeVar("R")

logger = logging.getLogger(__name__)


@click.group()
def dlq() -> None:
    """Dead letters: messages parked with the reason they failed."""


@dlq.command("list")
@FORMAT
@click.pass_context
@fail_cleanly
def dlq_list(ctx: click.Context, output: str) -> None:
    """List dead messages (raw:<id> for inbound, outbox:<id> for outbound); identities quoted by a
    reason are masked as in the logs (``dlq show`` has the whole reason)."""
    from pipeline.logs import redact
    from storage.dead import list_dead

    with connection(ctx) as reader:
        entries = [{**_slots(e), "reason": redact(e.reason)} for e in list_dead(reader)]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no dead messages")
        for row in data:
            click.echo(f"{row['ref']:<14} {row['channel']:<10} attempts={row['attempts']:<3} {row['reason'][:100]}")

    emit(entries, output == "json", table, settings(ctx).zone)


def _slots(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


@dlq.command("show")
@click.argument("ref")
@click.option(
    "--reveal",
    is_flag=True,
    help="Show what identifies the reporter too: recorded in the case's audit trail, or in the log "
    "for a message not triaged yet.",
)
@click.pass_context
@fail_cleanly
def dlq_show(ctx: click.Context, ref: str, reveal: bool) -> None:
    """Show one dead message with its reason and payload preview (JSON, times in the unit's zone).

    What identifies the reporter is hidden unless --reveal when the message's case is confidential,
    and also while it has no case yet: its confidentiality is not known before triage.
    """
    from storage.db import reading
    from storage.dead import show_dead

    with database(ctx) as found:
        with reading(found.engine) as reader:
            entry = _checked_ref(lambda: show_dead(reader, ref))
        if entry is not None and reveal and entry["confidential"] is not False:
            _record_reveal(found.engine, ref, entry["case_id"])
    if entry is None:
        raise click.ClickException(f"{ref}: not found")
    if entry["confidential"] is not False and not reveal:
        entry = masked_dead(entry)
    click.echo(to_json(entry, settings(ctx).zone))


def _record_reveal(engine: Engine, ref: str, case_id: int | None) -> None:
    """On the case's audit trail when there is a case; before triage there is none, so a log line
    (the reference and who, nothing of the message) keeps the record."""
    if case_id is not None:
        audit_reveal(engine, case_id, {"dead_letter": ref})
    else:
        logger.warning("dead message shown unmasked before triage", extra={"ref": ref, "actor": actor()})


def _checked_ref(call: Callable[[], R]) -> R:
    try:
        return call()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dlq.command("replay")
@click.argument("refs", nargs=-1, required=True)
@click.pass_context
@fail_cleanly
def dlq_replay(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Send dead messages back to the step they failed at (fix the cause first).

    With the in-process queue (memory://) this process cannot reach the running `satupintu run`'s
    queue: the messages are marked for its next sweep instead.
    """
    from storage.db import transaction
    from storage.dead import replay

    with database(ctx) as found:
        publisher = None if found.topology.is_memory else found.publisher()
        missing = 0
        try:
            for ref in refs:
                with transaction(found.engine) as writer:
                    replayed = _checked_ref(partial(replay, writer, ref, published=publisher is not None))
                if replayed is None:
                    click.echo(f"{ref}: not a dead message", err=True)
                    missing += 1
                elif publisher is None:
                    within = found.settings.pipeline.sweep_interval_seconds
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
