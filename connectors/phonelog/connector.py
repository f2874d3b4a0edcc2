"""Phone-call logs the front desk keeps in a spreadsheet: ``satupintu import phonelog FILE``.

Each call is its own case (a number shared by several callers must not merge their reports), its
received time is the call's own date and time in the unit's zone, so deadlines count from the
call, and its id comes from what was said, when and from which number: re-importing the file, an
overlapping export or the same calls saved as CSV and as a workbook adds nothing twice. The
receipt goes by WhatsApp or SMS to the caller's mobile when one of those is enabled (the reply
policy's fallback routes); otherwise the case says to read the tracking number out to the caller.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson
from pydantic import Field

from connectors._sheets.moments import BadValue, absent, moment, phone_text, read_date, read_time
from connectors._sheets.sheet import Record, column_map, read_records
from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    ImportInbound,
    ImportRow,
    NormalizedMessage,
    RawMessage,
    RejectedRow,
    Reporter,
    json_message,
)
from normalizer.rules import clean_text, normalize_phone

CHANNEL = "phonelog"
EVENT = "call"

PhonelogField = Literal["no", "date", "time", "name", "phone", "email", "text", "kind", "unit", "officer", "duration"]

SYNONYMS: dict[str, tuple[str, ...]] = {
    "no": ("no", "no.", "nomor", "no urut", "nomor urut", "#"),
    "date": ("tanggal", "tgl", "tgl.", "hari/tanggal", "hari, tanggal", "tanggal panggilan", "tanggal telepon",
             "tgl panggilan", "tgl telepon", "tanggal lapor", "tgl lapor", "waktu panggilan"),
    "time": ("jam", "pukul", "waktu", "jam panggilan", "jam telepon", "jam masuk", "pkl"),
    "name": ("nama penelepon", "nama", "penelepon", "nama pelapor", "pelapor", "nama pengadu", "pengadu",
             "nama penanya", "nama pemohon"),
    "phone": ("no. hp/telepon", "no. hp", "no hp", "no. telepon", "no telepon", "no. telp", "no telp", "telepon",
              "telp", "hp", "nomor hp", "nomor telepon", "no. hp/wa", "no hp/wa", "no. wa", "no wa", "whatsapp",
              "nomor penelepon", "no penelepon", "kontak", "no. kontak", "hp/telepon", "telepon/hp"),
    "email": ("email", "e-mail", "surel", "alamat email"),
    "text": ("isi laporan", "isi", "laporan", "uraian", "uraian laporan", "isi pengaduan", "pokok masalah",
             "keterangan", "ringkasan", "isi panggilan", "pesan", "keluhan", "permasalahan"),
    "kind": ("kategori", "jenis", "jenis laporan", "klasifikasi", "kategori laporan"),
    "unit": ("unit tujuan", "unit", "unit kerja", "diteruskan ke", "disposisi", "tujuan", "unit terkait"),
    "officer": ("petugas", "penerima", "diterima oleh", "operator", "petugas penerima", "nama petugas"),
    "duration": ("durasi", "durasi (menit)", "lama panggilan", "durasi menit"),
}  # fmt: skip
REQUIRED = ("date", "text")

KINDS = {
    "pengaduan": "pengaduan",
    "keluhan": "pengaduan",
    "aduan": "pengaduan",
    "aspirasi": "aspirasi",
    "saran": "aspirasi",
    "usulan": "aspirasi",
    "permintaan informasi": "permintaan_informasi",
    "informasi": "permintaan_informasi",
    "info": "permintaan_informasi",
    "pertanyaan": "permintaan_informasi",
}
ANONYMOUS_NAMES = re.compile(
    r"\b(anonim|anonymous|dirahasiakan|rahasia|tanpa nama|tidak menyebut nama|tdk menyebut nama|hamba allah)\b",
    re.IGNORECASE,
)
FOOTER = re.compile(r"^\s*(total|jumlah|sub ?total|grand total)\b", re.IGNORECASE)


class PhonelogConfig(ConnectorConfig):
    drop_folder: str = "inbox/phonelog"
    """Under ``data_dir``: every file written here is imported, then moved to ``done/`` or
    ``failed/`` beside it with its report."""
    columns: dict[str, PhonelogField] = Field(default_factory=dict)
    """A header in the file → the field it holds, over the built-in Indonesian headers."""


class PhonelogConnector(Connector[PhonelogConfig], ImportInbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Phone-call log (CSV or workbook)",
        roles=frozenset({"import"}),
        event_types=frozenset({EVENT}),
        capabilities=frozenset({"drop_folder"}),
        recorded_by_officer=True,
    )
    config_model = PhonelogConfig

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        columns = column_map(SYNONYMS, self.config.columns)
        first_line: dict[str, int] = {}
        for record in read_records(source, columns, required=REQUIRED):
            if isinstance(record, RejectedRow):
                yield record
                continue
            row = call_row(record, self.context.zone)
            if isinstance(row, ImportRow):
                key = row.message.external_id
                if key in first_line:
                    where = first_line[key]
                    yield RejectedRow(record.line, f"duplikat baris {where}: tidak diimpor lagi", sheet=record.sheet)
                    continue
                first_line[key] = record.line
            if row is not None:
                yield row

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        try:
            call: dict[str, Any] = orjson.loads(raw.payload)
            anonymous = bool(call["anonymous"])
            return NormalizedMessage(
                channel=CHANNEL,
                channel_message_id=raw.external_id,
                raw_message_id=raw_id,
                conversation_key=f"{CHANNEL}:{raw.external_id}",
                reporter=Reporter(
                    name=None if anonymous else call["name"],
                    phone_raw=call["phone"],
                    email=call.get("email"),
                ),
                text=call["text"],
                received_at=datetime.fromisoformat(call["called_at"]),
                declared_kind=call["kind"],
                anonymous=anonymous,
                confidential=bool(call.get("confidential")),
                extra={k: call[k] for k in ("unit", "officer", "duration", "other") if call.get(k)},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalousPayload(f"call: {exc}") from None


def call_row(record: Record, zone: ZoneInfo) -> ImportRow | RejectedRow | None:
    """One call, checked: every problem of the row is named with its column. None for a row that
    is no call (a TOTAL footer)."""
    text = clean_text(record.text("text"))
    if not record.cells.get("date") and not record.text("phone") and FOOTER.search(_joined(record)):
        return None
    problems: list[tuple[str, str]] = []
    called_at = _called_at(record, zone, problems)
    phone = phone_text(record.cells.get("phone"))
    if absent(phone):
        phone = ""
    elif normalize_phone(phone) is None:
        problems.append(("phone", "nomor telepon tidak valid"))
    if not text:
        problems.append(("text", "isi laporan kosong"))
    if problems or called_at is None:
        return record.rejected(problems)
    name = record.text("name")
    name = "" if absent(name) else name
    call = {
        "called_at": called_at.isoformat(),
        "name": name or None,
        "anonymous": bool(name and ANONYMOUS_NAMES.search(name)),
        "phone": phone or None,
        "email": record.text("email") or None,
        "text": text,
        "kind": KINDS.get(" ".join(record.text("kind").lower().split())),
        "unit": record.text("unit") or None,
        "officer": record.text("officer") or None,
        "duration": record.text("duration") or None,
        "other": {k: str(v) for k, v in record.other.items() if v is not None} or None,
    }
    message = json_message(
        CHANNEL,
        call_id(called_at, normalize_phone(phone) if phone else None, text),
        called_at.astimezone(UTC),
        call,
        EVENT,
    )
    return ImportRow(record.line, message, sheet=record.sheet)


def call_id(called_at: datetime, phone: str | None, text: str) -> str:
    """A call is when it was, from which number, and what was said: not its row or its name
    (a corrected spelling is the same call), so overlapping exports and CSV/XLSX twins agree."""
    words = " ".join(text.lower().split())
    digest = hashlib.sha256(f"{called_at.astimezone(UTC).isoformat()}\x1f{phone or ''}\x1f{words}".encode())
    return f"call:{digest.hexdigest()[:32]}"


def _joined(record: Record) -> str:
    return " ".join(str(v) for v in record.cells.values() if v is not None)


def _called_at(record: Record, zone: ZoneInfo, problems: list[tuple[str, str]]) -> datetime | None:
    """The call's local moment: the date (with its time, if it has one), else the time column."""
    if record.cells.get("date") is None:
        problems.append(("date", "tanggal kosong"))
        return None
    try:
        day, at = read_date(record.cells.get("date"))
    except BadValue:
        problems.append(("date", f"tanggal tidak valid: {record.text('date')}"))
        return None
    if at is None and record.cells.get("time") is not None:
        try:
            at = read_time(record.cells.get("time"))
        except BadValue:
            problems.append(("time", f"jam tidak valid: {record.text('time')}"))
            return None
    return moment(day, at, zone)
