"""SP4N-LAPOR!: ``satupintu import lapor FILE`` takes the dashboard's export (CSV or workbook).

Each report becomes one case, LAPOR!'s tracking ID kept beside ours (``cases.external_ref``).
A row's id is the tracking ID plus a hash of its status and disposition: the same row in a later
export is already imported and does nothing, while a row whose status or disposition changed is
a new message that triage applies to the existing case once, as an event (``triage/external.py``).
LAPOR!'s *anonim* and *rahasia* carry over as our anonymous and confidential flags, and the
reporter's name is kept only when the report is neither. No receipt is sent: LAPOR! told the
reporter; the case records that follow-ups are posted on LAPOR!.

Replies an officer writes on such a case go out on this channel: by the API once
``api_url`` is set (:mod:`connectors.lapor.client`), otherwise they are parked with the reason
and ``satupintu lapor follow-ups --since DATE`` lists them for the admin to post by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson
from pydantic import Field, SecretStr

from connectors._sheets.moments import BadValue, absent, moment, phone_text, read_date
from connectors._sheets.sheet import Record, Value, column_map, header_key, read_records
from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    ImportInbound,
    ImportRow,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    PermanentSendError,
    RawMessage,
    RejectedRow,
    Reporter,
    SendResult,
    json_message,
)
from connectors.lapor.client import Disposition, HttpLaporClient, LaporClient
from envelopes import ExternalRef
from normalizer.rules import clean_line, clean_text

CHANNEL = "lapor"
EVENT = "report"
REPORT_URL = "https://www.lapor.go.id/laporan/detil/{tracking_id}"
MANUAL = "manual"
"""The error code of a follow-up parked because the unit has no API access: post it by hand."""

LaporField = Literal[
    "tracking_id", "date", "disposed_at", "title", "text", "category", "kind", "status", "disposition",
    "name", "email", "phone", "anonymous", "confidential", "privacy",
]  # fmt: skip
PRESET: dict[str, tuple[str, ...]] = {
    "tracking_id": ("tracking id", "trackingid", "id laporan", "no tracking", "nomor tracking", "kode laporan",
                    "id", "no laporan", "nomor laporan"),
    "date": ("tanggal", "tanggal laporan", "tgl laporan", "waktu laporan", "tanggal masuk", "dibuat"),
    "disposed_at": ("tanggal disposisi", "tgl disposisi", "waktu disposisi"),
    "title": ("judul", "judul laporan"),
    "text": ("isi", "isi laporan", "laporan", "deskripsi", "isi aduan", "uraian"),
    "category": ("kategori", "topik", "kategori laporan"),
    "kind": ("klasifikasi", "jenis laporan", "jenis", "klasifikasi laporan"),
    "status": ("status", "status laporan", "tahapan"),
    "disposition": ("disposisi", "instansi tujuan", "instansi terdisposisi", "disposisi ke", "instansi", "unit"),
    "name": ("nama pelapor", "pelapor", "nama"),
    "email": ("email", "email pelapor", "e-mail"),
    "phone": ("no telepon", "no. telepon", "telepon pelapor", "no hp", "no. hp", "nomor telepon", "hp"),
    "anonymous": ("anonim", "anonymous"),
    "confidential": ("rahasia", "dirahasiakan", "confidential"),
    "privacy": ("privasi", "sifat laporan", "kerahasiaan", "tipe pelapor"),
}  # fmt: skip
KINDS = {"pengaduan": "pengaduan", "aspirasi": "aspirasi", "permintaan informasi": "permintaan_informasi"}
YES = frozenset({"ya", "y", "yes", "true", "1", "anonim", "rahasia", "v", "x"})


class LaporConfig(ConnectorConfig):
    api_url: str = ""
    """LAPOR!'s integration API; empty until the unit has API access (nothing is called then)."""
    api_token: SecretStr | None = None
    columns: dict[str, LaporField] = Field(default_factory=dict)
    """A header of the export → the field it holds, over the preset for the dashboard's export."""


class LaporConnector(Connector[LaporConfig], ImportInbound, Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="SP4N-LAPOR! (dashboard export; API when the unit has access)",
        roles=frozenset({"import", "send"}),
        event_types=frozenset({EVENT}),
        capabilities=frozenset({"external_ref", "receipt_elsewhere"}),
        docs_url="https://www.lapor.go.id",
        recorded_by_officer=True,
    )
    config_model = LaporConfig

    def client(self) -> LaporClient | None:
        """The API client, or None while ``api_url`` is empty."""
        if not self.config.api_url:
            return None
        token = self.config.api_token.get_secret_value() if self.config.api_token else ""
        return HttpLaporClient(self.config.api_url, token)

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        columns = column_map(PRESET, self.config.columns)
        seen: dict[str, int] = {}
        for record in read_records(source, columns, required=("tracking_id", "text"), min_columns=2):
            row = record if isinstance(record, RejectedRow) else report_row(record, self.context.zone)
            if isinstance(row, ImportRow):
                if row.message.external_id in seen:
                    reason = f"duplikat baris {seen[row.message.external_id]}: tidak diimpor lagi"
                    yield RejectedRow(row.line, reason, sheet=row.sheet)
                    continue
                seen[row.message.external_id] = row.line
            yield row

    def disposition_rows(self, dispositions: Sequence[Disposition]) -> list[ImportRow | RejectedRow]:
        """Reports the API disposed to the unit, read as rows of the export (its field names
        matched like the export's headers), so they become the same raw messages."""
        columns = column_map(PRESET, self.config.columns)
        rows: list[ImportRow | RejectedRow] = []
        for number, disposition in enumerate(dispositions, 1):
            cells: dict[str, Value] = {}
            headers: dict[str, str] = {}
            for key, value in disposition.record.items():
                found = columns.get(header_key(key))
                if found is not None and found not in cells:
                    cells[found] = value if isinstance(value, str | int | float) or value is None else str(value)
                    headers[found] = key
            rows.append(report_row(Record(number, None, cells, headers), self.context.zone))
        return rows

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        try:
            report: dict[str, Any] = orjson.loads(raw.payload)
            tracking_id = report["tracking_id"]
            return NormalizedMessage(
                channel=CHANNEL,
                channel_message_id=raw.external_id,
                raw_message_id=raw_id,
                conversation_key=f"{CHANNEL}:{tracking_id}",
                reporter=Reporter(name=report["name"], email=report.get("email"), phone_raw=report.get("phone")),
                subject=report["title"] or "",
                text=report["text"],
                received_at=datetime.fromisoformat(report["received_at"]),
                declared_kind=report["kind"],
                anonymous=bool(report["anonymous"]),
                confidential=bool(report["confidential"]),
                external_ref=ExternalRef(
                    system=CHANNEL,
                    id=tracking_id,
                    status=report["status"],
                    disposition=report["disposition"],
                    url=REPORT_URL.format(tracking_id=tracking_id),
                ),
                extra={k: report[k] for k in ("category", "reported_at") if report.get(k)},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalousPayload(f"report: {exc}") from None

    async def send(self, message: OutboundMessage) -> SendResult:
        """A follow-up on LAPOR!: by the API when the unit has it, else parked for the admin."""
        tracking_id = message.recipient.conversation_key.removeprefix(f"{CHANNEL}:")
        client = self.client()
        if client is None:
            raise PermanentSendError(
                "no SP4N-LAPOR! API access (connectors.lapor.api_url is empty): post this follow-up on "
                "LAPOR! by hand; `satupintu lapor follow-ups --since DATE` lists it",
                code=MANUAL,
            )
        try:
            posted = await client.post_follow_up(tracking_id, message.text)
            if message.purpose == "report":
                await client.set_status(tracking_id, "selesai")
        finally:
            await client.close()
        return SendResult(posted)


def report_row(record: Record, zone: ZoneInfo) -> ImportRow | RejectedRow:
    """One report of the export, checked; the name is dropped when the report is anonymous or
    confidential (it never reaches storage then)."""
    tracking_id = record.text("tracking_id").lstrip("#")
    text = clean_text(record.text("text"))
    problems: list[tuple[str, str]] = []
    if not tracking_id or len(tracking_id) > 64:
        problems.append(("tracking_id", "tracking ID kosong atau tidak valid"))
    if not text:
        problems.append(("text", "isi laporan kosong"))
    moments: dict[str, datetime | None] = {}
    today = datetime.now(zone).date()
    for name in ("date", "disposed_at"):
        value = record.cells.get(name)
        try:
            if value is None:
                moments[name] = None
            else:
                day, at = read_date(value)
                moments[name] = moment(day, at, zone)
                if day > today:
                    problems.append((name, f"tanggal {record.text(name)} belum terjadi (sesudah hari ini)"))
        except BadValue:
            problems.append((name, f"tanggal tidak valid: {record.text(name)}"))
    if problems:
        return record.rejected(problems)
    privacy = record.text("privacy").lower()
    anonymous = _yes(record.text("anonymous")) or "anonim" in privacy
    confidential = _yes(record.text("confidential")) or "rahasia" in privacy
    received = moments["disposed_at"] or moments["date"] or datetime.now(UTC)
    status = clean_line(record.text("status")) or None
    disposition = clean_line(record.text("disposition")) or None
    report = {
        "tracking_id": tracking_id,
        "reported_at": moments["date"].isoformat() if moments["date"] else None,
        "received_at": received.isoformat(),
        "title": clean_line(record.text("title")) or None,
        "text": text,
        "category": clean_line(record.text("category")) or None,
        "kind": KINDS.get(" ".join(record.text("kind").lower().split())),
        "status": status,
        "disposition": disposition,
        **_identity(record, hidden=anonymous or confidential),
        "anonymous": anonymous,
        "confidential": confidential,
    }
    state = hashlib.sha256(f"{status or ''}\x1f{disposition or ''}".encode()).hexdigest()[:12]
    message = json_message(CHANNEL, f"lapor:{tracking_id}:{state}", received.astimezone(UTC), report, EVENT)
    return ImportRow(record.line, message, sheet=record.sheet)


def _identity(record: Record, *, hidden: bool) -> dict[str, str | None]:
    """Who reported it, as the export gives them; nothing at all when LAPOR! keeps them hidden."""
    if hidden:
        return {"name": None, "email": None, "phone": None}
    name, phone = clean_line(record.text("name"), 255), phone_text(record.cells.get("phone"))
    return {
        "name": None if absent(name) else name,
        "email": record.text("email") or None,
        "phone": None if absent(phone) else phone,
    }


def _yes(text: str) -> bool:
    return text.strip().lower() in YES
