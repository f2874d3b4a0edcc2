"""The printed receipt (tanda terima) a visitor or a letter's sender is handed: one A4 page, in
Indonesian, with the tracking number, what happens next and the due dates (fpdf2)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from triage.receipt import format_day, format_moment

CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp", "email": "email", "telegram": "Telegram"}
KIND_NAMES = {"pengaduan": "Pengaduan", "aspirasi": "Aspirasi", "permintaan_informasi": "Permintaan informasi"}
EXCERPT_CHARS = 400
_LATIN1_STAND_INS = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"})


@dataclass(frozen=True, slots=True)
class PrintedReceipt:
    tracking_number: str
    received_at: datetime
    came_by: str
    """``Kunjungan langsung, nomor antrian A012``, ``Surat, nomor agenda 012/ULT/XII/2026``."""
    name: str | None
    kind: str
    unit_name: str
    confidential: bool
    first_response_due: datetime
    resolution_due: datetime
    excerpt: str
    sent_by: str | None = None
    """The channel a copy of the receipt also goes by (``whatsapp``, ``email``), if any."""
    copy_sent: bool = False
    """The copy had left when the page was made (else it is still queued: "akan dikirim")."""
    external_ref: str | None = None
    status_url: str = "/status"
    """The public status page, as a full address (``<public_url>/status``) for the paper."""


def receipt_pdf(receipt: PrintedReceipt, zone: ZoneInfo, office: str = "Unit Layanan Terpadu (ULT)") -> bytes:
    """The page; a confidential case's names no unit and no kind (the paper may be seen by others)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"Tanda terima {receipt.tracking_number}")
    pdf.set_creator("satupintu")
    # The same receipt makes the same bytes (a reprint is the file kept on the case; the file's
    # /ID is a hash of its content).
    pdf.set_creation_date(receipt.received_at)
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_xy(20, 20)

    def line(text: str, size: float = 11, style: str = "", height: float = 6.5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(label: str, value: str) -> None:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(55, 6.5, latin1(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6.5, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(office.upper(), 12, "B")
    line("TANDA TERIMA LAPORAN", 16, "B", 9)
    pdf.ln(3)
    line("Nomor tiket", 11)
    line(receipt.tracking_number, 26, "B", 12)
    pdf.ln(3)
    field("Diterima", format_moment(receipt.received_at, zone))
    field("Melalui", receipt.came_by)
    if receipt.external_ref:
        field("Nomor SP4N-LAPOR!", receipt.external_ref)
    if receipt.name:
        field("Atas nama", receipt.name)
    if not receipt.confidential:
        field("Jenis laporan", KIND_NAMES.get(receipt.kind, receipt.kind))
        field("Diteruskan ke", receipt.unit_name)
    pdf.ln(4)
    line("Langkah berikutnya", 12, "B")
    routing = (
        "Laporan Anda ditangani secara rahasia oleh petugas yang berwenang."
        if receipt.confidential
        else f"Setelah diverifikasi, laporan diteruskan ke {receipt.unit_name}."
    )
    steps = [
        f"1. Petugas ULT memverifikasi laporan Anda. {routing}",
        f"2. Tindak lanjut pertama paling lambat {format_moment(receipt.first_response_due, zone)}.",
        f"3. Target penyelesaian: {format_day(receipt.resolution_due, zone)}.",
        "4. Hasil tindak lanjut disampaikan kepada Anda melalui kontak yang Anda berikan, "
        "atau dapat ditanyakan langsung ke ULT dengan membawa tanda terima ini.",
    ]
    for step in steps:
        line(step)
    pdf.ln(3)
    if receipt.sent_by:
        by = CHANNEL_NAMES.get(receipt.sent_by, receipt.sent_by)
        copy = f"telah dikirim melalui {by}" if receipt.copy_sent else f"akan dikirim melalui {by}"
        line(f"Salinan tanda terima ini juga {copy}.", 10)
    line(
        f"Cek status laporan di {receipt.status_url} dengan nomor tiket dan nomor HP atau email yang Anda berikan.",
        10,
    )
    if not receipt.confidential and receipt.excerpt:
        pdf.ln(4)
        line("Ringkasan laporan", 11, "B")
        excerpt = receipt.excerpt if len(receipt.excerpt) <= EXCERPT_CHARS else receipt.excerpt[:EXCERPT_CHARS] + "..."
        line(excerpt, 10, height=5.5)
    pdf.set_xy(20, 270)
    line("Simpan tanda terima ini sebagai bukti bahwa laporan Anda telah kami terima.", 9)
    return bytes(pdf.output())


def latin1(text: str) -> str:
    """The PDF's built-in fonts hold Latin-1: typographic quotes and dashes get their plain
    twins, accents stay, anything else becomes its closest plain letter or ``?``."""
    text = text.translate(_LATIN1_STAND_INS)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        text = "".join(c if ord(c) < 256 else _plain(c) for c in text)
    return text


def _plain(char: str) -> str:
    base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
    return base or "?"
