"""``satupintu cases``: the officers' terminal view until the console exists; times in the unit's
zone, and a confidential case's reporter hidden unless revealed (which is audited)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import click
from sqlalchemy import Connection, select

from cli.common import FORMAT, connection, database, emit, fail_cleanly, settings
from cli.reveal import audit_reveal
from cli.views import CONFIDENTIAL, case_lines, case_table, local_time, masked_case
from config.routing import KINDS


@click.group()
def cases() -> None:
    """Cases (a terminal view until the officers' console exists); times in the unit's zone."""


@cases.command("list")
@click.option("--status", help="Only cases in this status (an unknown one is refused with the valid ones).")
@click.option("--unit", help="Only cases routed to this work unit (its key in routing.toml).")
@click.option("--channel", help="Only cases that came by this channel (an installed connector).")
@click.option(
    "--in-person", is_flag=True, help="Only cases whose tracking number no channel could take: give it in person."
)
@click.option("--overdue", is_flag=True, help="Only cases with a deadline missed now (its clock running).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--reveal", is_flag=True, help="Show the subjects of confidential cases too.")
@FORMAT
@click.pass_context
@fail_cleanly
def cases_list(
    ctx: click.Context,
    status: str | None,
    unit: str | None,
    channel: str | None,
    in_person: bool,
    overdue: bool,
    limit: int,
    reveal: bool,
    output: str,
) -> None:
    """Newest cases first; a confidential case's subject shows as [rahasia] unless --reveal. The
    receipt column names the channel the receipt went by, or "in-person" when none could reach the
    reporter and the officer must give the tracking number (in JSON: ``receipt_via`` null)."""
    from storage.cases import CaseFilter, list_cases
    from storage.db import utcnow
    from triage.deadlines import next_deadline

    now = utcnow()
    with connection(ctx) as reader:
        _refuse_unknown(reader, status=status, unit=unit, channel=channel)
        wanted = CaseFilter(
            status=status,
            unit=unit,
            channel=channel,
            in_person=in_person,
            overdue_at=now if overdue else None,
            limit=limit,
        )
        found = list_cases(reader, wanted)
    zone = settings(ctx).zone
    rows = [row if reveal or not row["confidential"] else {**row, "subject": CONFIDENTIAL} for row in found]
    for row in rows:
        upcoming = next_deadline(row)
        row["next_deadline"] = None if upcoming is None else {"kind": upcoming[0], "due": upcoming[1]}
        row["overdue"] = upcoming is not None and upcoming[1] < now

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("no cases")
            return
        for line in case_table(data, zone):
            click.echo(line)

    emit(rows, output == "json", table, zone)


def _refuse_unknown(reader: Connection, **wanted: str | None) -> None:
    """A filter value nothing can have is a typo, not "no cases": refuse it and list the valid
    ones. Valid: what the code gives cases (statuses), the unit table (units, synced from the
    routing file), the installed connectors (channels), and whatever a stored case already has
    (a unit dropped from routing.toml, a connector since uninstalled)."""
    from storage.tables import CASES

    for column, value in wanted.items():
        if not value or value in (known := _known(reader, column)):
            continue
        if reader.execute(select(CASES.c.id).where(CASES.c[column] == value).limit(1)).first() is None:
            valid = ", ".join(sorted(known)) or "(none yet)"
            raise click.BadParameter(f"{value!r} is not a case {column} here; valid: {valid}", param_hint=f"--{column}")


def _known(reader: Connection, column: str) -> Collection[str]:
    if column == "unit":
        from storage.tables import UNITS

        return set(reader.execute(select(UNITS.c.key)).scalars())
    if column == "channel":
        from connectors.registry import discover

        return discover().keys()
    from storage.models import CASE_STATUSES

    return set(CASE_STATUSES)


@cases.command("show")
@click.argument("reference")
@click.option("--reveal", is_flag=True, help="Show the reporter of a confidential case (recorded in its audit trail).")
@click.option(
    "--as-role",
    "role",
    help="Show what an officer of this role may see ([access] in the config; unit: an officer of the "
    "case's own unit): the reporter of a confidential or anonymous case only to the roles allowed "
    "(a view recorded in its audit trail).",
)
@FORMAT
@click.pass_context
@fail_cleanly
def cases_show(ctx: click.Context, reference: str, reveal: bool, role: str | None, output: str) -> None:
    """One case by tracking number or id: its reporter, how the receipt went, the thread with
    attachments, outbox and audit trail, its lifecycle and deadlines. The reporter of a
    confidential case, and of an anonymous one, shows as [rahasia] unless --reveal, or --as-role
    names a role allowed to see them."""
    from storage.cases import case_attachments, find_case
    from storage.db import reading
    from triage.access import UnknownRole, may_see_reporter

    key = _case_key(reference)
    loaded = settings(ctx)
    with database(ctx) as found:
        with reading(found.engine) as reader:
            case = find_case(reader, key)
            if case is not None:
                case["attachments"] = case_attachments(reader, case["id"])
        if case is None:
            raise click.ClickException(f"{reference}: no such case")
        protected = bool(case["confidential"] or case["anonymous"])
        try:
            allowed = reveal or (role is not None and may_see_reporter(loaded.access, role, case))
        except UnknownRole as exc:
            raise click.BadParameter(str(exc), param_hint="--as-role") from None
        if protected and allowed:
            audit_reveal(found.engine, case["id"], {"role": role} if role else None)
    if protected and not allowed:
        case = masked_case(case)
    zone = loaded.zone

    def table(data: dict[str, Any]) -> None:
        click.echo("\n".join([*case_lines(data, zone), *_lifecycle_lines(data, zone)]))

    emit(case, output == "json", table, zone)


def _lifecycle_lines(case: dict[str, Any], zone: Any) -> list[str]:
    """Where the case is in the procedure: assignee, checklist, what is missing, the deadlines."""
    lines = ["", "--- lifecycle"]
    lines.append(f"{'assignee':<20} {case.get('assignee') or '-'}")
    lines.append(f"{'language':<20} {case.get('language', 'id')}")
    if case.get("missing"):
        lines.append(f"{'missing':<20} {', '.join(case['missing'])} (asked of the reporter; clock stopped)")
    done = case.get("checklist") or {}
    from triage.lifecycle import CHECKLIST

    lines.append(f"{'checklist':<20} " + "  ".join(f"[{'x' if step in done else ' '}] {step}" for step in CHECKLIST))
    for name in ("verify_due", "first_response_due", "resolution_due", "final_due"):
        lines.append(f"{name:<20} {local_time(case.get(name), zone)}")
    for name in ("file_complete_at", "paused_at", "forwarded_at", "first_response_at", "resolved_at", "closed_at"):
        if case.get(name) is not None:
            lines.append(f"{name:<20} {local_time(case[name], zone)}")
    if case.get("extended"):
        lines.append(f"{'extended':<20} yes (once; the reason is in the audit trail)")
    return lines


def _case_key(reference: str) -> str:
    """What to look a case up by; a tracking number whose check digit fails is a typo to point out,
    not a case that does not exist."""
    from triage.tracking import parse_tracking_number

    tracking = parse_tracking_number(reference)
    if tracking is not None:
        return str(tracking)
    text = reference.strip()
    if text[-1:].isdigit() and any(parse_tracking_number(text[:-1] + digit) for digit in "0123456789"):
        raise click.ClickException(f"{reference}: the check digit does not match (mistyped?)")
    return text


# --- the procedure's actions (triage/lifecycle.py): the command line only reads options -----------

BY = click.option("--by", "by", default=None, help="Who acts, for the audit trail (default: cli:<your login>).")


def _act(ctx: click.Context, reference: str, action: str, by: str | None, output: str, **options: Any) -> None:
    """Run one lifecycle action in one transaction and show the case after it; a transition the
    procedure forbids ends with its reason and exit code 1. The messages it writes are sent by
    the running pipeline's sweeper within ``pipeline.sweep_interval_seconds``."""
    from storage.db import transaction
    from triage import lifecycle

    key = _case_key(reference)
    with database(ctx) as found:
        desk = lifecycle.Desk.from_parts(found)
        try:
            with transaction(found.engine) as writer:
                outcome = getattr(lifecycle, action)(writer, desk, key, by or actor(), **options)
        except lifecycle.Refused as exc:
            raise click.ClickException(str(exc)) from None
    case = outcome.case
    summary = {
        "tracking_number": case["tracking_number"],
        "status": case["status"],
        "unit": case["unit"],
        "assignee": case["assignee"],
        "resolution_due": case["resolution_due"],
        "messages_queued": [channel for _id, channel in outcome.outbox],
        "notes": outcome.notes,
    }

    def table(data: dict[str, Any]) -> None:
        sent = ", ".join(data["messages_queued"]) or "none"
        click.echo(f"{data['tracking_number']}: {data['status']} ({data['unit']}); messages queued: {sent}")
        for note in data["notes"]:
            click.echo(f"note: {note}")

    emit(summary, output == "json", table, settings(ctx).zone)


def actor() -> str:
    from cli.reveal import actor as terminal_actor

    return terminal_actor()


@cases.command("verify")
@click.argument("reference")
@click.option(
    "--step",
    "steps",
    multiple=True,
    type=click.Choice(
        ["problem_identification", "substance_check", "clarification", "evidence_evaluation", "selection"]
    ),
    help="A review step done (repeatable).",
)
@click.option(
    "--complete", is_flag=True, help="Declare the file complete: resolution and the 60-day ceiling count from now."
)
@click.option("--note", default="", help="Why, for the audit trail.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_verify(
    ctx: click.Context, reference: str, steps: tuple[str, ...], complete: bool, note: str, by: str | None, output: str
) -> None:
    """Start verifying a received case, or tick the review steps of one being verified."""
    _act(ctx, reference, "verify", by, output, steps=steps, complete=complete, note=note)


@cases.command("ask")
@click.argument("reference")
@click.option("--question", default="", help="A question for the reporter.")
@click.option(
    "--missing",
    multiple=True,
    type=click.Choice(["identity", "place", "time", "what", "who", "evidence"]),
    help="A required content the report lacks (repeatable).",
)
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_ask(
    ctx: click.Context, reference: str, question: str, missing: tuple[str, ...], by: str | None, output: str
) -> None:
    """Ask the reporter, on their channel: the case waits for them and its clock stops."""
    _act(ctx, reference, "ask", by, output, question=question, missing=missing)


@cases.command("forward")
@click.argument("reference")
@click.option("--unit", default=None, help="The unit (key in routing.toml); default: the one triage routed it to.")
@click.option("--note", default="", help="Why, for the audit trail.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_forward(ctx: click.Context, reference: str, unit: str | None, note: str, by: str | None, output: str) -> None:
    """Forward a verified case to a unit: the unit's inbox, and its email when it has one."""
    _act(ctx, reference, "forward", by, output, unit=unit, note=note)


@cases.command("assign")
@click.argument("reference")
@click.option("--officer", required=True, help="An officer of the case's unit (routing.toml officers).")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_assign(ctx: click.Context, reference: str, officer: str, by: str | None, output: str) -> None:
    """Assign a forwarded case to an officer of its unit."""
    _act(ctx, reference, "assign", by, output, officer=officer)


@cases.command("start")
@click.argument("reference")
@click.option("--note", default="")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_start(ctx: click.Context, reference: str, note: str, by: str | None, output: str) -> None:
    """The unit starts work on a forwarded case."""
    _act(ctx, reference, "start", by, output, note=note)


@cases.command("reply")
@click.argument("reference")
@click.option("--text", required=True, help="What the reporter is told.")
@click.option("--channel", default=None, help="Another channel of theirs: one of replies.fallback that reaches them.")
@click.option("--address", default=None, help="With --channel: which of their phones or emails.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_reply(
    ctx: click.Context,
    reference: str,
    text: str,
    channel: str | None,
    address: str | None,
    by: str | None,
    output: str,
) -> None:
    """Write to the reporter on their channel, or --channel another of theirs (it counts as the
    first follow-up)."""
    _act(ctx, reference, "reply", by, output, text=text, channel=channel, address=address)


@cases.command("extend")
@click.argument("reference")
@click.option(
    "--reason", required=True, help="Why more time is needed (recorded; told the reporter unless confidential)."
)
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_extend(ctx: click.Context, reference: str, reason: str, by: str | None, output: str) -> None:
    """Extend the resolution deadline, once."""
    _act(ctx, reference, "extend", by, output, reason=reason)


@cases.command("resolve")
@click.argument("reference")
@click.option("--report", required=True, help="The follow-up report (produk pelayanan): what was done.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_resolve(ctx: click.Context, reference: str, report: str, by: str | None, output: str) -> None:
    """Resolve a case in progress: the follow-up report and the satisfaction survey go to the reporter."""
    _act(ctx, reference, "resolve", by, output, report=report)


@cases.command("close")
@click.argument("reference")
@click.option("--note", default="")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_close(ctx: click.Context, reference: str, note: str, by: str | None, output: str) -> None:
    """Close a resolved case."""
    _act(ctx, reference, "close", by, output, note=note)


@cases.command("reject")
@click.argument("reference")
@click.option("--reason", required=True, help="Why it is not acted on; sent to the reporter.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_reject(ctx: click.Context, reference: str, reason: str, by: str | None, output: str) -> None:
    """Reject a case before it is forwarded; the reporter gets the reason."""
    _act(ctx, reference, "reject", by, output, reason=reason)


@cases.command("correct")
@click.argument("reference")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="The right kind.")
@click.option("--unit", default=None, help="The right unit (key in routing.toml).")
@click.option("--note", default="", help="Why, for the audit trail.")
@BY
@FORMAT
@click.pass_context
@fail_cleanly
def cases_correct(
    ctx: click.Context, reference: str, kind: str | None, unit: str | None, note: str, by: str | None, output: str
) -> None:
    """Correct the kind or the unit triage gave, before the case is forwarded (then: forward)."""
    _act(ctx, reference, "correct", by, output, kind=kind, unit=unit, note=note)


import cli.casework  # noqa: E402, F401 - adds inbox, promote, merge, split, unmerge (threading, triage/)


@cases.command("unit-inbox")
@click.argument("unit")
@click.option("--all", "everything", is_flag=True, help="Seen entries too.")
@click.option("--mark-seen", is_flag=True, help="Mark the entries shown as seen.")
@FORMAT
@click.pass_context
@fail_cleanly
def cases_unit_inbox(ctx: click.Context, unit: str, everything: bool, mark_seen: bool, output: str) -> None:
    """What a work unit was told: cases forwarded to it, escalations of its deadlines; a
    confidential case's subject shows as [rahasia]."""
    from storage.db import transaction
    from triage import unit_inbox as inbox

    with database(ctx) as found, transaction(found.engine) as writer:
        _refuse_unknown(writer, unit=unit)
        rows = inbox.entries(writer, unit, unseen_only=not everything)
        if mark_seen:
            inbox.mark_seen(writer, unit, [row["id"] for row in rows])
    rows = [{**row, "subject": CONFIDENTIAL} if row["confidential"] else row for row in rows]
    zone = settings(ctx).zone

    def table(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("nothing new")
        for row in data:
            click.echo(
                f"{local_time(row['at'], zone)}  {row['kind']:<10} {row['tracking_number']:<16} "
                f"{row['status']:<16} {row['subject'][:50]}"
            )

    emit(rows, output == "json", table, zone)
