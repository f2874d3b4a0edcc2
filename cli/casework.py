"""``satupintu cases inbox|promote``: the messages kept without a case, and turning one into a
case. Attached to the ``cases`` group by ``cli/cases.py``; the logic is in ``triage/``."""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.cases import BY, cases
from cli.common import EXIT_NOT_FOUND, FORMAT, connection, database, emit, fail_cleanly, settings
from cli.reveal import actor
from cli.views import local_time

REASONS = {"nothing": "nothing to act on", "automatic": "sent by a machine", "status": "status command"}


@cases.command("inbox")
@click.option("--all", "include_handled", is_flag=True, help="Also the messages that got a case since.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@FORMAT
@click.pass_context
@fail_cleanly
def cases_inbox(ctx: click.Context, include_handled: bool, limit: int, output: str) -> None:
    """Messages kept without a case, newest first: nothing to act on ("halo", a sticker; they got
    a greeting), a machine's message that threads nowhere, a status command. `cases promote ID`
    turns one into a case. The text shows; who sent it does not (see `dlq show` for why)."""
    from storage.threads import list_caseless

    with connection(ctx) as reader:
        rows = list_caseless(reader, include_handled=include_handled, limit=limit)
    zone = settings(ctx).zone
    shown = [{k: v for k, v in row.items() if k != "raw_message_id"} for row in rows]

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no messages without a case")
        for row in data:
            answered = row["answer"] or "-"
            case = f" -> {row['tracking_number']}" if row["tracking_number"] else ""
            text = " ".join((row["subject"] + " " + row["text"]).split())[:60] or "(empty)"
            click.echo(
                f"{row['id']:>6}  {local_time(row['received_at'], zone)}  {row['channel']:<10} "
                f"{REASONS.get(row['reason'], row['reason']):<18} {answered:<9} {text}{case}"
            )

    emit(shown, output == "json", table, zone)


@cases.command("promote")
@click.argument("message_id", type=int)
@BY
@click.pass_context
@fail_cleanly
def cases_promote(ctx: click.Context, message_id: int, by: str | None) -> None:
    """Turn a message kept without a case (its id in `cases inbox`) into a case of its own, with a
    tracking number, deadlines and a receipt, as triage gives any report."""
    from envelopes import WorkItem
    from storage.db import transaction
    from triage.inbox import CannotPromote, promote

    with database(ctx) as found:
        in_process = found.topology.is_memory
        try:
            with transaction(found.engine) as writer:
                promoted = promote(writer, message_id, by or actor(), published=not in_process)
        except CannotPromote as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_NOT_FOUND)
        if in_process:
            within = found.settings.pipeline.sweep_interval_seconds
            click.echo(f"message {message_id}: the running satupintu opens its case within {within:g} s")
            return
        publisher = found.publisher()
        try:
            item = WorkItem(step="triage", record="raw_message", ids=(promoted.raw_message_id,))
            publisher.publish([(item, promoted.channel)])
        finally:
            publisher.close()
        click.echo(f"message {message_id}: sent to triage to open its case")


REASON = click.option("--reason", default="", help="Why, for the audit trail.")


def _moved(ctx: click.Context, output: str, what: str, moved: Any) -> None:
    data = {"move_id": moved.move_id, "source": moved.source, "target": moved.target, "messages": moved.messages}

    def table(row: dict[str, Any]) -> None:
        click.echo(f"{what}: {row['source']} -> {row['target']} ({row['messages']} messages, move {row['move_id']})")

    emit(data, output == "json", table, settings(ctx).zone)


def _run(ctx: click.Context, action: Any, *args: Any) -> Any:
    """One merge action in one transaction; a refusal ends with its reason and exit code 1."""
    from storage.db import transaction
    from triage.merge import Refused

    with database(ctx) as found:
        try:
            with transaction(found.engine) as writer:
                return action(writer, *args)
        except Refused as exc:
            raise click.ClickException(str(exc)) from None


@cases.command("merge")
@click.argument("source")
@click.argument("target")
@REASON
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_merge(ctx: click.Context, source: str, target: str, reason: str, by: str | None, output: str) -> None:
    """Merge SOURCE into TARGET (tracking numbers or ids): every message of SOURCE moves, and
    SOURCE closes into TARGET; later messages to SOURCE reach TARGET. `cases unmerge SOURCE` undoes it."""
    from triage.merge import merge

    _moved(ctx, output, "merged", _run(ctx, merge, _key(source), _key(target), by or actor(), reason))


@cases.command("unmerge")
@click.argument("source")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_unmerge(ctx: click.Context, source: str, by: str | None, output: str) -> None:
    """Undo the merge of SOURCE: its messages move back, and it is open again."""
    from triage.merge import unmerge

    _moved(ctx, output, "unmerged", _run(ctx, unmerge, _key(source), by or actor()))


@cases.command("split")
@click.argument("case")
@click.argument("message_ids", nargs=-1, type=int, required=True)
@REASON
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_split(
    ctx: click.Context, case: str, message_ids: tuple[int, ...], reason: str, by: str | None, output: str
) -> None:
    """Split messages (their #ids in `cases show`) off CASE into a new case with its own tracking
    number, and CASE's kind, unit and deadlines. `cases unsplit NEW` undoes it."""
    from storage.db import utcnow
    from triage.merge import split
    from triage.numbering import TrackingNumbers
    from triage.tracking import TrackingNumber

    config = settings(ctx)
    scope = f"{utcnow().astimezone(config.zone).year % 100:02d}"
    with database(ctx) as found:
        numbers = TrackingNumbers(found.engine, 1)
        numbers.reserve({scope: 1})
        [sequence] = numbers.take(scope, 1)
    number = str(TrackingNumber(config.tracking.prefix, int(scope), sequence))
    moved = _run(ctx, split, _key(case), list(message_ids), number, by or actor(), reason)
    _moved(ctx, output, "split", moved)


@cases.command("unsplit")
@click.argument("case")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_unsplit(ctx: click.Context, case: str, by: str | None, output: str) -> None:
    """Undo the split that made CASE: its messages go back, and CASE closes into its source."""
    from triage.merge import unsplit

    _moved(ctx, output, "unsplit", _run(ctx, unsplit, _key(case), by or actor()))


def _key(reference: str) -> str:
    from cli.cases import _case_key

    return _case_key(reference)
