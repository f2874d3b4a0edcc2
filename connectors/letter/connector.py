"""Letters and faxes: ``satupintu letter add --medium letter|fax --agenda-number ...`` (or the
agenda book as a sheet, ``satupintu import letter FILE``).

A letter is known by its agenda number (the number the unit's incoming-mail book gives it):
registering it again adds nothing. Each letter is its own case, received when it is registered;
its date (``--dated``) is kept as the letter's own. The receipt is printed (``--print``) and kept
on the case, and also goes by WhatsApp, SMS or email when the sender gave a number or an address.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from connectors._desk.connector import DeskConfig, DeskConnector, desk_spec
from connectors._sheets.moments import BadValue, absent, moment, phone_text, read_date
from connectors._sheets.sheet import Record
from connectors.base import (
    BlobRef,
    ImportRow,
    NormalizedMessage,
    RawMessage,
    RejectedRow,
    Reporter,
    json_message,
)
from normalizer.rules import clean_line, clean_text, normalize_email, normalize_phone

CHANNEL = "letter"
EVENT = "letter"
MEDIA = ("letter", "fax")
MEDIUM_NAMES = {"letter": "Surat", "fax": "Faksimile"}

LetterField = Literal["agenda_number", "medium", "sender", "dated", "received", "subject", "text", "phone", "email"]
SYNONYMS: dict[str, tuple[str, ...]] = {
    "agenda_number": ("no agenda", "nomor agenda", "no. agenda", "agenda"),
    "medium": ("media", "jenis", "jenis surat", "via"),
    "sender": ("pengirim", "nama pengirim", "dari", "asal surat"),
    "dated": ("tanggal surat", "tgl surat"),
    "received": ("tanggal terima", "tgl terima", "tanggal diterima", "diterima"),
    "subject": ("perihal", "hal"),
    "text": ("isi ringkas", "ringkasan", "isi", "isi surat", "uraian"),
    "phone": ("no hp", "telepon", "no telepon", "hp"),
    "email": ("email", "e-mail", "surel"),
}


class LetterConfig(DeskConfig):
    columns: dict[str, LetterField] = Field(default_factory=dict)
    """A header of the agenda book's sheet → the field it holds."""


class LetterConnector(DeskConnector[LetterConfig]):
    spec = desk_spec(CHANNEL, "Letters and faxes (incoming-mail agenda)", EVENT)
    config_model = LetterConfig
    event = EVENT
    synonyms = SYNONYMS
    required = ("agenda_number", "sender", "text")

    def sheet_row(self, record: Record) -> ImportRow | RejectedRow:
        return _sheet_row(record, self.context.zone)

    def message(self, raw_id: int, raw: RawMessage, record: dict[str, Any]) -> NormalizedMessage:
        return NormalizedMessage(
            channel=CHANNEL,
            channel_message_id=raw.external_id,
            raw_message_id=raw_id,
            conversation_key=f"{CHANNEL}:{raw.external_id}",
            reporter=Reporter(name=record["sender"], phone_raw=record.get("phone"), email=record.get("email")),
            subject=record.get("subject") or "",
            text=record["text"],
            attachments=raw.attachments,
            received_at=datetime.fromisoformat(record["received_at"]),
            extra={k: record[k] for k in ("medium", "agenda_number", "dated") if record.get(k)},
        )


def letter(
    *,
    medium: str,
    agenda_number: str,
    sender: str,
    dated: date | None,
    received_at: datetime,
    zone: ZoneInfo,
    text: str,
    subject: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    attachments: tuple[BlobRef, ...] = (),
) -> RawMessage | list[tuple[str, str]]:
    """One letter as a raw message, or every problem with the field it is in. A letter cannot be
    dated after the day it was received (in the unit's ``zone``)."""
    problems: list[tuple[str, str]] = []
    received_on = received_at.astimezone(zone).date()
    if dated is not None and dated > received_on:
        problems.append(
            ("dated", f"tanggal surat {dated.isoformat()} sesudah tanggal diterima {received_on.isoformat()}: "
             "surat tidak bisa bertanggal sesudah diterima")
        )  # fmt: skip
    agenda = " ".join(agenda_number.split())
    if not agenda:
        problems.append(("agenda_number", "nomor agenda kosong"))
    if medium not in MEDIA:
        problems.append(("medium", "media harus letter atau fax"))
    if not clean_line(sender):
        problems.append(("sender", "pengirim kosong"))
    if phone and normalize_phone(phone) is None:
        problems.append(("phone", "nomor telepon tidak valid"))
    if email and normalize_email(email) is None:
        problems.append(("email", "alamat email tidak valid"))
    body = clean_text(text)
    if not body:
        problems.append(("text", "isi surat kosong"))
    if problems:
        return problems
    record = {
        "medium": medium,
        "agenda_number": agenda,
        "sender": clean_line(sender, 255),
        "dated": dated.isoformat() if dated else None,
        "received_at": received_at.isoformat(),
        "subject": clean_line(subject or "") or None,
        "text": body,
        "phone": phone or None,
        "email": email or None,
    }
    return json_message(CHANNEL, f"agenda:{agenda}", received_at.astimezone(UTC), record, EVENT, attachments)


def _sheet_row(record: Record, zone: ZoneInfo) -> ImportRow | RejectedRow:
    moments: dict[str, date | None] = {}
    for name in ("dated", "received"):
        try:
            moments[name] = read_date(record.cells.get(name))[0] if record.cells.get(name) is not None else None
        except BadValue as exc:
            return record.rejected([(name, f"tanggal tidak valid: {exc}")])
    received = moments["received"]
    medium = record.text("medium").lower()
    phone = phone_text(record.cells.get("phone"))
    made = letter(
        medium="fax" if medium.startswith(("fax", "faks")) else "letter",
        agenda_number=record.text("agenda_number"),
        sender=record.text("sender"),
        dated=moments["dated"],
        received_at=moment(received, None, zone) if received else datetime.now(UTC),
        zone=zone,
        subject=record.text("subject") or None,
        text=record.text("text"),
        phone=None if absent(phone) else phone,
        email=record.text("email") or None,
    )
    if isinstance(made, list):
        return record.rejected(made)
    return ImportRow(record.line, made, sheet=record.sheet)
