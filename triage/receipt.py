"""The receipt (bukti penerimaan) a reporter gets on the channel they used, in Indonesian."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_KIND_NAMES = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
}
_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    tracking_number: str
    kind: str
    unit_name: str
    confidential: bool
    first_response_due: datetime
    resolution_due: datetime


def format_moment(moment: datetime, zone: ZoneInfo) -> str:
    """``Selasa, 24 November 2026 pukul 16.00 WITA``."""
    local = moment.astimezone(zone)
    zone_name = _ZONE_NAMES.get(zone.key, zone.key)
    return (
        f"{_DAYS[local.weekday()]}, {local.day} {_MONTHS[local.month - 1]} {local.year} pukul {local:%H.%M} {zone_name}"
    )


def format_day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_DAYS[local.weekday()]}, {local.day} {_MONTHS[local.month - 1]} {local.year}"


def receipt(facts: ReceiptFacts, zone: ZoneInfo) -> tuple[str, str]:
    """Subject and text. A confidential case names no unit: the receipt may be read by others."""
    kind = _KIND_NAMES.get(facts.kind, facts.kind)
    subject = f"[{facts.tracking_number}] Laporan Anda telah kami terima"
    routing = (
        "Laporan Anda kami tangani secara rahasia oleh petugas yang berwenang."
        if facts.confidential
        else f"Laporan akan diteruskan ke: {facts.unit_name}."
    )
    text = "\n".join(
        [
            "Terima kasih, laporan Anda telah kami terima.",
            "",
            f"Nomor tiket: {facts.tracking_number}",
            f"Jenis laporan: {kind}",
            "",
            "Langkah berikutnya: petugas ULT memverifikasi laporan Anda. " + routing,
            f"Tindak lanjut pertama paling lambat {format_moment(facts.first_response_due, zone)}.",
            f"Target penyelesaian: {format_day(facts.resolution_due, zone)}.",
            "",
            "Simpan nomor tiket ini untuk menanyakan status laporan Anda.",
        ]
    )
    return subject, text
