"""The parser, pure: what an officer reads of a mail, who sent it and where an answer goes, which
thread it belongs to, what a machine sent, and what is parked as dead and why."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from connectors.base import AnomalousPayload, BlobRef, NormalizedMessage, RawMessage
from connectors.email import EmailConnector
from connectors.email.mime import may_hold_files, read_mail
from connectors.email.parser import MAX_ID_CHARS, kept_parts, mail_key
from connectors.email.tests.mails import UNIT, complaint
from tests.support import corpus

SECTION = {"address": UNIT, "smtp_host": "smtp.example.ac.id", "max_attachment_bytes": 2048}


def parse(data: bytes, attachments: tuple[BlobRef, ...] = (), **section: Any) -> NormalizedMessage | None:
    connector = EmailConnector.from_section({**SECTION, **section})
    raw = RawMessage(
        channel="email",
        external_id=mail_key(data),
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
        content_type="message/rfc822",
        payload=data,
        headers={"account": "main", "folder": "INBOX"},
        attachments=attachments,
    )
    return connector.parse(7, raw)


def parsed(data: bytes, **section: Any) -> NormalizedMessage:
    message = parse(data, **section)
    assert message is not None
    return message


def corpus_mail(name: str) -> bytes:
    return corpus("email", name).read_bytes()


def test_a_complaint_names_its_sender_thread_and_text() -> None:
    message = parsed(complaint(3, sender="Rina.W@Student.ITK.ac.id"))
    assert message.reporter.name == "Rina Wulandari"
    assert message.reporter.email == "rina.w@student.itk.ac.id"
    assert message.reporter.channel_user_id == "main:rina.w@student.itk.ac.id"
    assert message.channel_message_id == message.conversation_key == "<complaint.00003@mail.example.id>"
    assert message.subject == "Pengaduan: Lampu jalan kampus mati"
    assert "Lampu jalan dekat gedung F mati" in message.text
    assert not message.automatic


def test_a_reply_joins_the_thread_root_and_lists_every_id_it_answers() -> None:
    message = parsed(complaint(4, in_reply_to="<receipt.2@itk>", references="<root.1@mail> <receipt.2@itk>"))
    assert message.conversation_key == "<root.1@mail>"
    assert message.in_reply_to == ("<receipt.2@itk>", "<root.1@mail>")
    only_in_reply_to = parsed(complaint(5, in_reply_to="<receipt.9@itk>"))
    assert only_in_reply_to.conversation_key == "<receipt.9@itk>"


def test_reply_to_is_where_the_answer_goes_not_who_the_reporter_is() -> None:
    message = parsed(complaint(1, sender="noreply@forms.itk.ac.id", headers={"Reply-To": "dewi@example.id"}))
    assert message.reporter.email == "noreply@forms.itk.ac.id"
    assert message.reporter.channel_user_id == "main:dewi@example.id"
    assert not message.automatic, "a form relay with a person's Reply-To is a person's report"
    assert parsed(complaint(2, sender="noreply@sistem.itk.ac.id")).automatic, "nobody to answer: a machine"


@pytest.mark.parametrize(
    "text",
    [
        "Baik, sudah saya lampirkan.\n\nPada tanggal Sen, 2 Nov 2026 pukul 09.15 ULT ITK <ult@itk.ac.id> menulis:\n"
        "> Laporan Anda telah kami terima.\n",
        "Baik, sudah saya lampirkan.\n\nOn Mon, Nov 2, 2026 at 9:15 AM ULT <ult@itk.ac.id> wrote:\n> Received.\n",
        "Baik, sudah saya lampirkan.\n\nDari: ULT ITK <ult@itk.ac.id>\nDikirim: Senin, 2 November 2026 09.15\n"
        "Kepada: Rina\nPerihal: [ULT-1] Laporan\n\nLaporan Anda telah kami terima.\n",
        "Baik, sudah saya lampirkan.\n\n-----Original Message-----\nFrom: ULT\nSent: Monday\nTo: Rina\n"
        "Subject: Laporan\n\nDiterima.\n",
        "Baik, sudah saya lampirkan.\n\nDikirim dari Yahoo Mail di Android\n",
    ],
)
def test_quoted_history_and_signatures_are_cut_from_the_text_shown_and_kept_whole(text: str) -> None:
    message = parsed(complaint(1, text=text))
    assert message.text == "Baik, sudah saya lampirkan."
    assert message.extra["full_text"].strip() == text.strip()


def test_a_forward_keeps_what_was_forwarded() -> None:
    text = "Mohon dibantu.\n\n---------- Pesan terusan ---------\nDari: Mahasiswa <m@x.id>\n\nJadwal wisuda kapan?\n"
    assert "Jadwal wisuda kapan?" in parsed(complaint(1, subject="Fwd: wisuda", text=text)).text


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Auto-Response-Suppress": "All"},
        {"List-Id": "<pengumuman.itk.ac.id>"},
        {"Return-Path": "<>"},
        {"Subject": "Balasan otomatis: Re: Laporan Anda"},
        {"Subject": "Automatic reply: Re: Laporan Anda"},
        {"Subject": "Out of Office: cuti"},
        {"Subject": "Undeliverable: Laporan Anda"},
        {"Subject": "Read: Laporan Anda"},
    ],
)
def test_what_a_machine_sent_is_marked_automatic(headers: dict[str, str]) -> None:
    subject = headers.pop("Subject", None)
    message = parsed(complaint(1, subject=subject, headers=headers))
    assert message.automatic and message.extra["automatic_reason"]


def test_auto_submitted_no_is_a_person() -> None:
    assert not parsed(complaint(1, headers={"Auto-Submitted": "no"})).automatic


@pytest.mark.parametrize(
    "name", ["051-bounce-postfix.eml", "049-mdn-read-receipt.eml", "079-id-autoreply-outlook-no-auto-submitted.eml"]
)
def test_bounces_read_receipts_and_silent_auto_replies_are_automatic(name: str) -> None:
    assert parsed(corpus_mail(name)).automatic


def test_mail_from_one_of_our_own_addresses_is_no_report() -> None:
    accounts = {"beasiswa": {"address": "beasiswa@itk.example.ac.id"}}
    assert parse(complaint(1, sender=UNIT), accounts=accounts) is None
    assert parse(complaint(2, sender="BEASISWA@itk.example.ac.id"), accounts=accounts) is None


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("005-plain-iso-8859-1-8bit-subject.eml", "Frösche", "Die Hasen und die Frösche"),
        ("006-plain-windows-1252-rfc2047.eml", "Frösche", "Frösche"),
        ("011-alternative-qp-czech-rfc2047.eml", "Český test", "českých písmen"),
        ("028-shift-jis-8bit-header.eml", "test", "あいうえお"),
        ("030-euc-kr-rfc2047.eml", "한국말", "하나님을"),
        ("008-html-only-gb2312.eml", "我把镜头拉近些", "我把镜"),
        ("077-id-complaint-informal-alternative-emoji.eml", "🙏", "AC di ruang E-305"),
        ("083-id-info-request-windows-1252-no-message-id.eml", "", "Dengan hormat"),
    ],
)
def test_every_charset_reads_as_the_sender_wrote_it(name: str, subject: str, text: str) -> None:
    message = parsed(corpus_mail(name))
    assert subject in message.subject
    assert text in message.text
    assert "\ufffd" not in message.subject


def test_a_windows_1251_sender_name_reads_as_written() -> None:
    """The sample's subject and body were anonymised to Latin letters; its RFC 2047 sender name
    in windows-1251 was not, so that is where the charset shows."""
    message = parsed(corpus_mail("013-alternative-windows-1251-rfc2047.eml"))
    assert message.reporter.name == "Атиковa"
    assert "Filter2" in message.text


def test_html_only_mail_is_shown_as_text() -> None:
    message = parsed(corpus_mail("007-html-only-iso-8859-1.eml"))
    assert "Die Hasen" in message.text and "<" not in message.text


def test_attachments_inline_images_forwards_and_invites_are_kept_as_files() -> None:
    def names(name: str) -> list[tuple[str, str]]:
        return [(p.filename, p.content_type) for p in read_mail(corpus_mail(name)).parts]

    assert ("ciële.txt", "text/plain") in names("017-attachment-nonascii-filename.eml"), "RFC 2231"
    assert ("Eelanalüüsi päring.jpg", "image/jpeg") in names("032-rfc2047-latin1-attachment.eml"), "RFC 2047"
    assert ("kigaaldcbanejcbi.png", "image/png") in names("022-inline-cid-html-embedded.eml"), "an inline image"
    assert names("072-calendar-invite-request.eml") == [("attachment-1.ics", "text/calendar")]
    forwarded = names("069-forward-rfc822-with-pdf.eml")
    assert ("Another PDF.eml", "message/rfc822") in forwarded and ("broken.pdf", "application/pdf") in forwarded
    assert len(names("020-attachment-ten-files.eml")) == 10
    assert "Just attaching another PDF" in parsed(corpus_mail("069-forward-rfc822-with-pdf.eml")).text


def test_a_part_over_the_limit_is_a_note_and_the_rest_of_the_mail_is_kept() -> None:
    data = complaint(1, attachment=b"%PDF" + b"x" * 5000)
    mail = read_mail(data)
    kept, over = kept_parts(mail, 2048)
    assert (kept, [p.filename for p in over]) == ([], ["bukti-1.pdf"])
    message = parsed(data)
    assert "Wifi di asrama putri" in message.text
    assert "[Lampiran “bukti-1.pdf” (4 KB) tidak disimpan: lebih besar dari batas 2 KB]" in message.text
    assert message.extra["attachments_not_kept"] == [{"filename": "bukti-1.pdf", "size": 5004}]


def test_the_blobs_stored_at_fetch_time_are_the_messages_attachments() -> None:
    ref = BlobRef(filename="bukti-1.pdf", content_type="application/pdf", size=10, sha256="a" * 64)
    data = complaint(1, attachment=b"%PDF-1.4 x")
    assert parsed_with(data, (ref,)).attachments == (ref,)


def parsed_with(data: bytes, refs: tuple[BlobRef, ...]) -> NormalizedMessage:
    message = parse(data, refs)
    assert message is not None
    return message


def test_the_same_mail_has_one_key_and_another_mail_reusing_its_message_id_another() -> None:
    data = complaint(1)
    assert mail_key(data) == mail_key(data.replace(b"\n", b"\r\n"))
    assert mail_key(data) == mail_key(b"Delivered-To: beasiswa@itk\n" + data), "a copy to another account of ours"
    assert mail_key(data) != mail_key(complaint(1, text="lain sama sekali"))
    assert mail_key(complaint(1, message_id=" ")).startswith("sha256:")


def poison_with(**headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = headers.get("From", "Rina <rina@example.id>")
    mail["Subject"] = "tes"
    mail["Message-ID"] = headers.get("Message-ID", "<ok@example.id>")
    mail.set_content("isi")
    return mail.as_bytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (poison_with(**{"Message-ID": f"<{'x' * MAX_ID_CHARS}@example.id>"}), "Message-ID holds an id of"),
        (poison_with(From=f"{'N' * 300} <rina@example.id>"), "the From name is 300 characters"),
        (poison_with(From=f"<{'a' * 320}@example.id>"), "the From address is"),
        (b"Content-Type: multipart/mixed; boundary=ab\n\nbody\n", "no From, Subject or Message-ID"),
        (b"// Not an RFC-822 Document\n", "no From, Subject or Message-ID"),
        (b"Subject: tanpa pengirim\n\nisi\n", "no sender address"),
    ],
)
def test_what_cannot_be_taken_is_parked_as_dead_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(AnomalousPayload, match=reason):
        parse(data)


def test_every_corpus_mail_parses_or_is_refused_with_a_reason() -> None:
    folder = corpus("email")
    for path in sorted(folder.glob("*.eml")):
        try:
            parse(path.read_bytes())
        except AnomalousPayload as refused:
            assert str(refused), path.name


def test_a_mail_with_any_part_to_keep_is_never_skipped_at_fetch_time() -> None:
    for path in sorted(corpus("email").glob("*.eml")):
        data = path.read_bytes()
        if read_mail(data).parts:
            assert may_hold_files(data), path.name
    assert not may_hold_files(complaint(1, html=True)), "text with an HTML alternative is not parsed twice"
    assert may_hold_files(complaint(1, attachment=b"%PDF"))
