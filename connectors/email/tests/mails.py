"""Mail as reporters' clients write it, for the tests and the benchmark (seeded, Indonesian)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

UNIT = "ult@itk.example.ac.id"
TOPICS = (
    ("AC rusak di gedung E", "AC di ruang E-305 tidak dingin sejak minggu lalu, kuliah jadi tidak kondusif."),
    ("Wifi asrama mati", "Wifi di asrama putri blok C tidak tersambung sejak tiga hari."),
    ("UKT salah ditetapkan", "UKT saya ditetapkan golongan 7 padahal penghasilan orang tua di bawah UMR."),
    ("Lampu jalan kampus mati", "Lampu jalan dekat gedung F mati, mahasiswa takut pulang malam."),
    ("KRS tidak bisa diisi", "SIAKAD menolak pengisian KRS saya dengan pesan kesalahan server."),
)


def complaint(
    number: int,
    *,
    sender: str | None = None,
    name: str = "Rina Wulandari",
    subject: str | None = None,
    text: str | None = None,
    to: str = UNIT,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    html: bool = False,
    attachment: bytes | None = None,
) -> bytes:
    """A person's complaint mail; ``number`` makes its sender and Message-ID its own."""
    topic, body = TOPICS[number % len(TOPICS)]
    mail = EmailMessage()
    mail["From"] = f"{name} <{sender or f'pelapor{number:05d}@student.itk.ac.id'}>"
    mail["To"] = to
    mail["Subject"] = subject if subject is not None else f"Pengaduan: {topic}"
    mail["Date"] = format_datetime(datetime(2026, 11, 2, 8, 0, tzinfo=UTC) + timedelta(seconds=number))
    mail["Message-ID"] = message_id or f"<complaint.{number:05d}@mail.example.id>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for key, value in (headers or {}).items():
        mail[key] = value
    mail.set_content(text if text is not None else f"Yth. Bapak/Ibu,\n\n{body}\n\nTerima kasih.\n")
    if html:
        mail.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
    if attachment is not None:
        mail.add_attachment(attachment, maintype="application", subtype="pdf", filename=f"bukti-{number}.pdf")
    return mail.as_bytes()


def mixed(number: int, rng: random.Random) -> bytes:
    """The benchmark's mix (as ``peer-harness/gen_mail.py``): 60 % plain, 30 % with an HTML
    alternative, 10 % with a 50 KB PDF attached; every one from a sender of its own."""
    kind = number % 10
    pdf = b"%PDF-1.4\n" + rng.randbytes(50 * 1024) + b"\n%%EOF\n" if kind == 9 else None
    return complaint(number, html=6 <= kind <= 8, attachment=pdf)


def auto_reply(number: int, *, in_reply_to: str | None = None, sender: str | None = None) -> bytes:
    """An out-of-office answer, marked only by its subject (as many responders do)."""
    return complaint(
        number,
        sender=sender,
        subject="Balasan otomatis: Re: Laporan Anda telah kami terima",
        text="Saya sedang cuti hingga 10 November dan akan membalas setelah kembali.",
        in_reply_to=in_reply_to,
        references=in_reply_to,
    )
