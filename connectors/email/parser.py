"""A stored mail -> the unified record (pure: no I/O; the parts were put in the blob store when
the mail was fetched, in the order :func:`kept_parts` gives, and arrive as ``raw.attachments``).

What a mail cannot be taken as is parked as dead with the reason (``AnomalousPayload``): it is no
mail at all (no header, no sender), or a value is longer than what it is kept in (a message id
over ``MAX_ID_CHARS``, a sender over the identity column). Mail from one of the unit's own
addresses is never a report (``None``: ignored, so a receipt that comes back starts no loop).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from connectors.base import AnomalousPayload, BlobRef, NormalizedMessage, RawMessage, Reporter, size_text
from connectors.email.automatic import automatic_reason, is_no_reply
from connectors.email.mime import Mail, Part, header_text, message_ids, read_mail
from connectors.email.quotes import latest_reply

CHANNEL = "email"
MAX_ID_CHARS = 255
"""Longest Message-ID (and In-Reply-To/References id) taken: ids are what threads are found by,
and a sender who makes them longer than any mail client does is not threading with us."""
MAX_ADDRESS_CHARS = 320
"""RFC 5321's longest address, the identity column's width."""
MAX_NAME_CHARS = 255
"""The reporter name column's width."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    """What the parser needs of the account a mail came to."""

    account: str
    max_attachment_bytes: int
    own_addresses: frozenset[str]


def mail_key(data: bytes) -> str:
    """The idempotency key: the Message-ID with a fingerprint of the body, or a hash of the whole
    mail when it has no Message-ID (or one too long to be a key), both over the bytes as any
    server hands them out (:func:`_as_served`).

    The same mail read again (a restart, a renumbered folder) has the same key; a copy delivered
    to a second account of ours differs only in its headers, so it has the same key too; another
    mail that reuses a Message-ID (broken senders do) has another body, so it is not lost."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(data)
    ids = message_ids(header_text(headers, "Message-ID"))
    if ids and len(ids[0]) <= MAX_ID_CHARS:
        return f"{ids[0]} {_body_fingerprint(data)}"
    return "sha256:" + hashlib.sha256(_as_served(data)).hexdigest()


def _as_served(data: bytes) -> bytes:
    """The bytes as every IMAP server hands them out alike: no CR (line ends are CRLF or LF by
    server), NUL as 0x80 (Dovecot's substitute: IMAP cannot carry NUL)."""
    return data.replace(b"\r", b"").replace(b"\x00", b"\x80")


def _body_fingerprint(data: bytes) -> str:
    normal = _as_served(data)
    _, _, body = normal.partition(b"\n\n")
    return hashlib.sha256(body.rstrip()).hexdigest()[:16]


def kept_parts(mail: Mail, max_bytes: int) -> tuple[list[Part], list[Part]]:
    """The parts to keep in the blob store, and those over the size limit (a note each)."""
    kept = [part for part in mail.parts if len(part.data) <= max_bytes]
    return kept, [part for part in mail.parts if len(part.data) > max_bytes]


def parse_mail(raw_id: int, raw: RawMessage, settings: MailSettings) -> NormalizedMessage | None:
    mail = read_mail(raw.payload)
    _refuse_unusable(mail)
    sender = (mail.from_address or "").lower() or None
    if sender in settings.own_addresses:
        return None
    reason = automatic_reason(mail.message, sender)
    answer = _answer_address(mail, settings.own_addresses)
    if reason is None and answer is None and sender and is_no_reply(sender):
        reason = "sent from a no-reply address"
    _, too_large = kept_parts(mail, settings.max_attachment_bytes)
    notes = [
        f"[Lampiran “{part.filename}” ({size_text(len(part.data))}) tidak disimpan: lebih besar dari batas "
        f"{size_text(settings.max_attachment_bytes)}]"
        for part in too_large
    ]
    shown = latest_reply(mail.text, mail.subject)
    text = "\n\n".join(t for t in (shown.strip(), *notes) if t)
    own_id = mail.message_id or raw.external_id
    extra: dict[str, object] = {"account": settings.account, "folder": raw.headers.get("folder")}
    if shown.strip() != mail.text.strip():
        extra["full_text"] = mail.text
    if mail.reply_to and mail.reply_to.lower() != sender:
        extra["reply_to"] = mail.reply_to
    if reason is not None:
        extra["automatic_reason"] = reason
    if notes:
        extra["attachments_not_kept"] = [{"filename": p.filename, "size": len(p.data)} for p in too_large]
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=own_id,
        raw_message_id=raw_id,
        conversation_key=_thread_root(mail, own_id),
        in_reply_to=tuple(dict.fromkeys((*mail.in_reply_to, *mail.references))),
        reporter=Reporter(
            name=mail.from_name,
            email=sender,
            channel_user_id=f"{settings.account}:{answer}" if answer else None,
        ),
        subject=mail.subject,
        text=text,
        attachments=tuple(_refs(raw.attachments)),
        received_at=raw.received_at,
        automatic=reason is not None,
        extra=extra,
    )


def _refuse_unusable(mail: Mail) -> None:
    if not mail.has_headers or not (mail.from_address or mail.subject or mail.message_id):
        raise AnomalousPayload("not an email message: it has no From, Subject or Message-ID header")
    for name in ("Message-ID", "In-Reply-To", "References"):
        for found in message_ids(header_text(mail.message, name)):
            if len(found) > MAX_ID_CHARS:
                raise AnomalousPayload(f"{name} holds an id of {len(found)} characters; at most {MAX_ID_CHARS}")
    if mail.from_address and len(mail.from_address) > MAX_ADDRESS_CHARS:
        raise AnomalousPayload(f"the From address is {len(mail.from_address)} characters; at most {MAX_ADDRESS_CHARS}")
    if mail.from_name and len(mail.from_name) > MAX_NAME_CHARS:
        raise AnomalousPayload(f"the From name is {len(mail.from_name)} characters; at most {MAX_NAME_CHARS}")
    if not mail.from_address and automatic_reason(mail.message, None) is None:
        raise AnomalousPayload("no sender address (From): nobody to answer and no reporter")


def _answer_address(mail: Mail, own: frozenset[str]) -> str | None:
    """Where an answer goes: Reply-To when it names a usable address, else From; None when that
    is one of ours or reads no mail."""
    for candidate in (mail.reply_to, mail.from_address):
        if candidate and len(candidate) <= MAX_ADDRESS_CHARS:
            address = candidate.lower()
            if address not in own and not is_no_reply(address):
                return address
    return None


def _thread_root(mail: Mail, own_id: str) -> str:
    """The first message of the thread: the first References id, else In-Reply-To, else this one."""
    if mail.references:
        return mail.references[0]
    if mail.in_reply_to:
        return mail.in_reply_to[0]
    return own_id


def _refs(attachments: tuple[BlobRef, ...]) -> list[BlobRef]:
    return list(attachments)
