"""Visitors at the front desk: ``satupintu walkin add --queue-number A012 ...`` (or a sheet of
visits, ``satupintu import walkin FILE``).

A visit is known by its queue number and day (in the unit's zone): registering it again, from the
command or a sheet, adds nothing. Each visit is its own case; the receipt is printed for the
visitor (``--print``) and kept on the case, and also goes by WhatsApp, SMS or email when the
visitor gave a number or an address (the reply policy's fallback routes).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from connectors._desk.connector import DeskConfig, DeskConnector, desk_spec
from connectors._sheets.moments import BadValue, absent, moment, phone_text, read_date, read_time
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

CHANNEL = "walkin"
EVENT = "visit"

WalkinField = Literal["queue_number", "date", "time", "name", "nik", "phone", "email", "text"]
SYNONYMS: dict[str, tuple[str, ...]] = {
    "queue_number": ("no antrian", "nomor antrian", "antrian", "no. antrian", "queue number"),
    "date": ("tanggal", "tgl", "tanggal kunjungan", "hari/tanggal"),
    "time": ("jam", "pukul", "jam datang", "waktu"),
    "name": ("nama", "nama pengunjung", "nama pelapor", "pengunjung", "pelapor"),
    "nik": ("nik", "no ktp", "nomor ktp", "no. ktp", "nomor induk kependudukan"),
    "phone": ("no hp", "no. hp", "telepon", "no telepon", "no. telepon", "hp", "nomor hp", "no. hp/wa", "no wa"),
    "email": ("email", "e-mail", "surel"),
    "text": ("isi laporan", "keperluan", "uraian", "isi", "laporan", "keterangan", "isi pengaduan"),
}
QUEUE_NUMBER = re.compile(r"^[A-Za-z]{0,3}-?\d{1,4}$")
NIK = re.compile(r"^\d{16}$")


class WalkinConfig(DeskConfig):
    columns: dict[str, WalkinField] = Field(default_factory=dict)
    """A header of a sheet of visits → the field it holds."""


class WalkinConnector(DeskConnector[WalkinConfig]):
    spec = desk_spec(CHANNEL, "Walk-in visitors (front desk)", EVENT)
    config_model = WalkinConfig
    event = EVENT
    synonyms = SYNONYMS
    required = ("queue_number", "date", "text")

    def sheet_row(self, record: Record) -> ImportRow | RejectedRow:
        return _sheet_row(record, self.context.zone)

    def message(self, raw_id: int, raw: RawMessage, record: dict[str, Any]) -> NormalizedMessage:
        return NormalizedMessage(
            channel=CHANNEL,
            channel_message_id=raw.external_id,
            raw_message_id=raw_id,
            conversation_key=f"{CHANNEL}:{raw.external_id}",
            reporter=Reporter(name=record["name"], phone_raw=record["phone"], email=record["email"]),
            text=record["text"],
            attachments=raw.attachments,
            received_at=datetime.fromisoformat(record["visited_at"]),
            extra={k: record[k] for k in ("queue_number", "nik") if record.get(k)},
        )


def visit(
    *,
    queue_number: str,
    visited_at: datetime,
    zone: ZoneInfo,
    name: str | None,
    nik: str | None,
    phone: str | None,
    email: str | None,
    text: str,
    attachments: tuple[BlobRef, ...] = (),
) -> RawMessage | list[tuple[str, str]]:
    """One visit as a raw message, or every problem with the field it is in."""
    problems: list[tuple[str, str]] = []
    queue = queue_number.strip().upper().replace(" ", "")
    if not QUEUE_NUMBER.match(queue):
        problems.append(("queue_number", "nomor antrian tidak valid (contoh: A012)"))
    if nik and not NIK.match(nik.strip()):
        problems.append(("nik", "NIK harus 16 angka"))
    if phone and normalize_phone(phone) is None:
        problems.append(("phone", "nomor telepon tidak valid"))
    if email and normalize_email(email) is None:
        problems.append(("email", "alamat email tidak valid"))
    body = clean_text(text)
    if not body:
        problems.append(("text", "isi laporan kosong"))
    if problems:
        return problems
    day = visited_at.astimezone(zone).date()
    record = {
        "queue_number": queue,
        "day": day.isoformat(),
        "visited_at": visited_at.isoformat(),
        "name": clean_line(name or "", 255) or None,
        "nik": nik.strip() if nik else None,
        "phone": phone or None,
        "email": email or None,
        "text": body,
    }
    return json_message(
        CHANNEL, f"visit:{day.isoformat()}:{queue}", visited_at.astimezone(UTC), record, EVENT, attachments
    )


def _sheet_row(record: Record, zone: ZoneInfo) -> ImportRow | RejectedRow:
    try:
        day, at = read_date(record.cells.get("date"))
        if at is None and record.cells.get("time") is not None:
            at = read_time(record.cells.get("time"))
    except BadValue as exc:
        return record.rejected([("date", f"tanggal atau jam tidak valid: {exc}")])
    phone = phone_text(record.cells.get("phone"))
    made = visit(
        queue_number=record.text("queue_number"),
        visited_at=moment(day, at, zone),
        zone=zone,
        name=None if absent(record.text("name")) else record.text("name"),
        nik=record.text("nik") or None,
        phone=None if absent(phone) else phone,
        email=record.text("email") or None,
        text=record.text("text"),
    )
    if isinstance(made, list):
        return record.rejected(made)
    return ImportRow(record.line, made, sheet=record.sheet)
