"""``satupintu letter add``: register a received letter or fax, print its receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cli.common import fail_cleanly, settings
from connectors._desk.registration import Command, blob_store, keep_files, refuse, register, registration_options
from connectors.letter.connector import MEDIA, MEDIUM_NAMES, letter


@click.group("letter")
def letter_group() -> None:
    """Letters and faxes received by the unit (a case each, with a printed receipt)."""


@letter_group.command("add")
@click.option("--medium", type=click.Choice(MEDIA), required=True, help="How it came: a letter or a fax.")
@click.option("--agenda-number", required=True, help="Its number in the incoming-mail agenda (one letter per number).")
@click.option("--sender", required=True, help="Who sent it (a person or an institution).")
@click.option("--dated", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The letter's own date, YYYY-MM-DD.")
@click.option("--subject", help="Its subject line (perihal).")
@click.option("--text", required=True, help="What it reports or asks (a summary, or the text).")
@click.option("--phone", help="The sender's mobile number: the receipt also goes by WhatsApp or SMS.")
@click.option("--email", help="The sender's email address: the receipt also goes by email.")
@registration_options
@click.pass_context
@fail_cleanly
def letter_add(
    ctx: click.Context,
    medium: str,
    agenda_number: str,
    sender: str,
    dated: datetime,
    subject: str | None,
    text: str,
    phone: str | None,
    email: str | None,
    attach: tuple[Path, ...],
    print_to: Path | None,
    wait_seconds: float,
    output: str,
) -> None:
    """Register a letter or fax received today: a case, its deadlines, a printed receipt.

    Idempotent by agenda number: the same registration again adds nothing (and prints the
    receipt again); another letter under a number in use is refused.
    """
    made = letter(
        medium=medium,
        agenda_number=agenda_number,
        sender=sender,
        dated=dated.date(),
        received_at=datetime.now(UTC),
        zone=settings(ctx).zone,
        subject=subject,
        text=text,
        phone=phone,
        email=email,
        attachments=keep_files(blob_store(ctx), attach),
    )
    if isinstance(made, list):
        refuse(made)
    came_by = f"{MEDIUM_NAMES[medium]}, nomor agenda {made.external_id.split(':', 1)[1]}"
    register(ctx, made, Command(came_by, wait_seconds, print_to, output == "json"))


COMMANDS = [letter_group]
