"""The printable complaint form (formulir pengaduan): two A4 pages, in Indonesian, to download
from the public report page, fill in by hand, and bring to the desk or post (fpdf2).

It comes back as a letter: the officer registers it (``satupintu letter add --medium letter
... --attach scan.pdf``), which makes its case and prints the receipt with the tracking number.
So the form asks what a case needs (who, when and where, what happened, who is reported, what
proves it) in the order the officer types it, and says how it is handed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from connectors._desk.receipt_pdf import latin1

DEFAULT_OFFICE = "Unit Layanan Terpadu (ULT)"
"""The receipt's default: the settings name no office."""
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
"""A fixed creation date: the same form makes the same bytes (its /ID hashes the content)."""
FORM_PATH = "/pengaduan"
"""Where the same report can be written online, under the public address."""

MARGIN = 18.0
WIDTH = 210.0 - 2 * MARGIN
BOTTOM = 297.0 - 16.0
"""The last line anything is drawn on; below it only the page's footer."""
LABEL = 48.0
ROW = 9.0
RULE_GREY = 140
NIK_DIGITS = 16
EVIDENCE = (
    "Foto atau video",
    "Dokumen, surat, kuitansi atau bukti transfer",
    "Rekaman suara atau tangkapan layar percakapan",
    "Saksi (tulis nama dan cara menghubunginya di bawah)",
    "Lainnya:",
)


def paper_form_pdf(office: str = DEFAULT_OFFICE, public_url: str = "http://127.0.0.1:8080") -> bytes:
    """The blank form; ``public_url`` is ``[survey] public_url``, where the online form is too."""
    online = f"{public_url.rstrip('/')}{FORM_PATH}"
    pdf = _Form(office)
    pdf.set_title("Formulir Pengaduan")
    pdf.set_subject(f"Formulir pengaduan {office}")
    pdf.set_creator("satupintu")
    pdf.set_creation_date(CREATED)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.alias_nb_pages()
    _first_page(pdf, office, online)
    _second_page(pdf, office, public_url.rstrip("/"))
    return bytes(pdf.output())


def _first_page(pdf: _Form, office: str, online: str) -> None:
    """Who reports, when and where, and what happened: the box for it takes what is left."""
    pdf.add_page()
    pdf.text_line(office.upper(), 11, "B")
    pdf.text_line("FORMULIR PENGADUAN", 17, "B", 9)
    pdf.text_line(
        "Tulis dengan huruf cetak yang jelas. Beri tanda X pada kotak yang sesuai. "
        f"Laporan yang sama dapat juga diisi secara daring di {online}.",
        9,
        height=4.5,
    )
    pdf.ln(2)
    _officer_box(pdf)

    pdf.section("A. Identitas pelapor")
    pdf.ruled("Nama lengkap")
    _nik(pdf)
    pdf.ruled("Alamat")
    pdf.ruled("")
    pdf.ruled("No. HP / WhatsApp")
    pdf.ruled("Email")
    pdf.ln(1.5)
    pdf.tick("Saya ingin identitas saya dirahasiakan (tidak diberitahukan kepada pihak yang dilaporkan).")
    pdf.text_line(
        "Laporan tanpa identitas (anonim) tetap kami terima dan kami tindak lanjuti, tetapi kami tidak dapat "
        "memberi kabar atau jawaban kepada pelapor yang tidak meninggalkan alamat, nomor HP atau email.",
        8.5,
        "I",
        4.2,
    )

    pdf.section("B. Waktu dan tempat kejadian")
    pdf.ruled("Tanggal kejadian")
    pdf.ruled("Jam (perkiraan)")
    pdf.ruled("Tempat / lokasi")
    pdf.ruled("")

    pdf.section("C. Uraian kejadian")
    pdf.text_line(
        "Apa yang terjadi, bagaimana terjadinya, siapa saja yang terlibat atau menyaksikan, dan apa yang Anda "
        "harapkan. Jika tidak cukup, lanjutkan di lembar lain dan lampirkan.",
        8.5,
        height=4.2,
    )
    pdf.lined_box(BOTTOM - pdf.get_y())


def _second_page(pdf: _Form, office: str, public: str) -> None:
    """Who is reported, the evidence, the signature, and how the form reaches the office."""
    pdf.add_page()
    pdf.section("C. Uraian kejadian (lanjutan)")
    pdf.lined_box(45)

    pdf.section("D. Pihak yang dilaporkan")
    pdf.ruled("Nama")
    pdf.ruled("Jabatan")
    pdf.ruled("Unit kerja / instansi")

    pdf.section("E. Bukti pendukung")
    pdf.text_line("Lampirkan salinan (fotokopi atau cetakan), bukan aslinya. Bukti yang dilampirkan:", 9, height=4.5)
    pdf.ln(1)
    for item in EVIDENCE:
        pdf.tick(item)
    pdf.ruled("Keterangan bukti")
    pdf.ruled("")

    pdf.section("F. Pernyataan dan tanda tangan")
    pdf.text_line("Dengan ini saya menyatakan bahwa yang saya laporkan di atas benar.", 9, height=4.5)
    pdf.ln(1)
    pdf.ruled("Tempat, tanggal")
    _signature(pdf)

    pdf.section("Cara menyampaikan formulir ini")
    steps = [
        f"1. Bawa ke Loket Pengaduan {office} pada jam kerja, atau",
        f'2. kirim lewat pos ke alamat kantor {office}, dalam amplop tertutup bertuliskan "PENGADUAN", atau',
        f"3. isi secara daring di {public}{FORM_PATH}.",
        "Petugas mendaftarkan formulir ini sebagai surat masuk dan memberi Anda tanda terima dengan nomor "
        f"tiket; dengan nomor itu status laporan dapat dicek kapan saja di {public}/status. Tanda terima "
        "atas formulir yang dikirim lewat pos dikirim ke nomor HP, email atau alamat yang Anda tulis di bagian A.",
    ]
    for step in steps:
        pdf.text_line(step, 9, height=4.6)


class _Form(FPDF):
    """The form's few building blocks, each drawn at the current line and moving below it."""

    def __init__(self, office: str) -> None:
        super().__init__(format="A4")
        self.office = office

    def footer(self) -> None:
        self.set_xy(MARGIN, BOTTOM + 5)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        note = latin1(f"Formulir Pengaduan - {self.office}")
        self.cell(WIDTH / 2, 4, note, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.cell(WIDTH / 2, 4, f"Halaman {self.page_no()} dari {{nb}}", align="R")
        self.set_text_color(0)

    def text_line(self, text: str, size: float = 10, style: str = "", height: float = 6.0) -> None:
        self.set_font("Helvetica", style, size)
        self.set_x(MARGIN)
        self.multi_cell(WIDTH, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, title: str) -> None:
        """A section's heading: a grey band, so the form reads as its parts at a glance."""
        self.ln(3)
        self.set_fill_color(225)
        self.set_font("Helvetica", "B", 10.5)
        self.set_x(MARGIN)
        self.cell(WIDTH, 7, latin1(f" {title}"), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def ruled(self, label: str) -> None:
        """A label and a line to write on; an empty label is the previous field's next line."""
        y = self.get_y()
        self.set_font("Helvetica", "", 10)
        self.set_xy(MARGIN, y + 2)
        self.cell(LABEL, 6, latin1(label))
        self._rule(MARGIN + LABEL, y + ROW - 1, MARGIN + WIDTH)
        self.set_xy(MARGIN, y + ROW)

    def tick(self, text: str) -> None:
        """A box to mark with an X, and what marking it means."""
        y = self.get_y()
        self.set_draw_color(0)
        self.rect(MARGIN + 1, y + 1, 4, 4)
        self.set_font("Helvetica", "", 9.5)
        self.set_xy(MARGIN + 8, y)
        self.multi_cell(WIDTH - 8, 6, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def lined_box(self, height: float) -> None:
        """A framed area with faint lines, for free text written by hand."""
        top = self.get_y() + 1
        self.set_draw_color(0)
        self.rect(MARGIN, top, WIDTH, height - 1)
        line = top + ROW
        while line < top + height - 3:
            self._rule(MARGIN + 2, line, MARGIN + WIDTH - 2)
            line += ROW
        self.set_xy(MARGIN, top + height)

    def _rule(self, x1: float, y: float, x2: float) -> None:
        self.set_draw_color(RULE_GREY)
        self.set_line_width(0.2)
        self.line(x1, y, x2, y)
        self.set_draw_color(0)


def _officer_box(pdf: _Form) -> None:
    """What the officer writes when the form comes in: it is registered as a letter."""
    top = pdf.get_y()
    pdf.set_draw_color(0)
    pdf.rect(MARGIN, top, WIDTH, 15)
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_xy(MARGIN + 2, top + 1)
    pdf.cell(0, 4, "Diisi petugas")
    pdf.set_font("Helvetica", "", 8.5)
    third = (WIDTH - 4) / 3
    for index, label in enumerate(("Nomor agenda", "Tanggal diterima", "Nomor tiket")):
        x = MARGIN + 2 + index * third
        pdf.set_xy(x, top + 6)
        pdf.cell(third, 4, label)
        pdf._rule(x, top + 13, x + third - 4)
    pdf.set_xy(MARGIN, top + 16)


def _nik(pdf: _Form) -> None:
    """Sixteen boxes, one digit each: a NIK copied wrong is a reporter not found."""
    y = pdf.get_y()
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(MARGIN, y + 2)
    pdf.cell(LABEL, 6, "NIK")
    pdf.set_draw_color(0)
    for digit in range(NIK_DIGITS):
        pdf.rect(MARGIN + LABEL + digit * 6.5, y + 1.5, 6.5, 7)
    pdf.set_xy(MARGIN, y + ROW + 0.5)


def _signature(pdf: _Form) -> None:
    top = pdf.get_y() + 1
    x = MARGIN + WIDTH - 70
    pdf.set_draw_color(0)
    pdf.rect(x, top, 70, 26)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.set_xy(x, top + 1)
    pdf.cell(70, 4, "Tanda tangan pelapor", align="C")
    pdf._rule(x + 6, top + 20, x + 64)
    pdf.set_xy(x, top + 21)
    pdf.cell(70, 4, "(nama jelas)", align="C")
    pdf.set_xy(MARGIN, top + 27)
