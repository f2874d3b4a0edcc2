"""The queue ticket the door hands the visitor: the number, large, the counter, when it was taken and
how many wait before it. Sized for an 80 mm receipt printer roll (fpdf2); an office printer prints
it on A4 just as well."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from config.settings import QueueCounter
from connectors._desk.receipt_pdf import latin1
from triage.receipt import format_moment
from visitor_queue.line import Taken

WIDTH_MM = 80
HEIGHT_MM = 110


def ticket_pdf(
    taken: Taken, counter: QueueCounter, zone: ZoneInfo, office: str = "Unit Layanan Terpadu (ULT)"
) -> bytes:
    pdf = FPDF(unit="mm", format=(WIDTH_MM, HEIGHT_MM))
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"Nomor antrian {taken.ticket.number}")
    pdf.set_creator("satupintu")
    pdf.set_creation_date(taken.ticket.taken_at)  # the same ticket reprints to the same bytes
    pdf.add_page()
    pdf.set_margins(6, 6, 6)
    pdf.set_xy(6, 6)

    def line(text: str, size: float, style: str = "", height: float = 6.0) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, latin1(text), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(office, 10, "B", 5)
    line("NOMOR ANTRIAN", 12, "B", 7)
    line(taken.ticket.number, 44, "B", 20)
    line(counter.name, 14, "B", 8)
    pdf.ln(2)
    line(format_moment(taken.ticket.taken_at, zone), 10)
    waiting = "Tidak ada antrean di depan Anda." if taken.ahead == 0 else f"{taken.ahead} nomor menunggu sebelum Anda."
    line(waiting, 10)
    pdf.ln(3)
    line(
        "Silakan duduk di ruang tunggu. Nomor Anda dipanggil tiga kali; jika terlewat, sampaikan ke petugas.",
        8,
        height=4,
    )
    return bytes(pdf.output())
