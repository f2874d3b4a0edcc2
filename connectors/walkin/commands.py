"""``satupintu walkin add``: register a visitor at the front desk, print their receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cli.common import database, fail_cleanly, settings
from connectors._desk.registration import Command, blob_store, keep_files, refuse, register, registration_options
from connectors.walkin.connector import visit


@click.group()
def walkin() -> None:
    """Visitors at the front desk (a case each, with a printed receipt)."""


@walkin.command("add")
@click.option(
    "--queue-number", required=True, help="The visitor's queue number, e.g. A012 (one visit per number a day)."
)
@click.option("--name", help="The visitor's name (leave out for an anonymous report).")
@click.option("--nik", help="The visitor's NIK (16 digits), if they gave it.")
@click.option("--phone", help="A mobile number: the receipt also goes by WhatsApp or SMS.")
@click.option("--email", help="An email address: the receipt also goes by email.")
@click.option("--text", required=True, help="What the visitor reports or asks.")
@click.option(
    "--answered",
    metavar="ANSWER",
    help="The answer given at the counter (an information request): the case is recorded and closed at once.",
)
@registration_options
@click.pass_context
@fail_cleanly
def walkin_add(
    ctx: click.Context,
    queue_number: str,
    name: str | None,
    nik: str | None,
    phone: str | None,
    email: str | None,
    text: str,
    answered: str | None,
    attach: tuple[Path, ...],
    print_to: Path | None,
    wait_seconds: float,
    output: str,
) -> None:
    """Register a visitor: a case with its tracking number and deadlines, a printed receipt.

    Idempotent by queue number and day: the same registration again adds nothing (and prints
    the receipt again); another visit under a number in use is refused.
    """
    made = visit(
        queue_number=queue_number,
        visited_at=datetime.now(UTC),
        zone=settings(ctx).zone,
        name=name,
        nik=nik,
        phone=phone,
        email=email,
        text=text,
        attachments=keep_files(blob_store(ctx), attach),
    )
    if isinstance(made, list):
        refuse(made)
    came_by = f"Kunjungan langsung, nomor antrian {made.external_id.rsplit(':', 1)[1]}"
    registration = register(ctx, made, Command(came_by, wait_seconds, print_to, output == "json"))
    if answered:
        _answered(ctx, registration.tracking_number, answered, to_stderr=output == "json")


def _answered(ctx: click.Context, tracking_number: str | None, answer: str, *, to_stderr: bool) -> None:
    """Closes the visit's case with the answer given at the counter (said on stderr after JSON)."""
    from cli.reveal import actor
    from storage.db import transaction
    from triage import lifecycle

    if tracking_number is None:
        raise click.ClickException("the answer was not recorded: the visit has no case yet (run the command again)")
    with database(ctx) as found:
        desk = lifecycle.Desk.from_parts(found)
        try:
            with transaction(found.engine) as writer:
                lifecycle.answered_at_desk(writer, desk, tracking_number, actor(), answer=answer)
        except lifecycle.Refused as exc:
            raise click.ClickException(f"the answer was not recorded: {exc}") from None
    click.echo(f"{tracking_number}: answered at the counter, closed", err=to_stderr)


COMMANDS = [walkin]
