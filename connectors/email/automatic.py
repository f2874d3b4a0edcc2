"""Mail a machine sent: auto-replies, out-of-office notices, bounces, read receipts, lists.

Answering them is how mail loops start (``peers.md`` §2.10). They are told by their headers
(RFC 3834 ``Auto-Submitted``, Exchange's ``X-Auto-Response-Suppress``, ``Precedence``, list
headers, an empty return path), by their MIME (RFC 3464 delivery reports, RFC 8098 read
receipts), by who sends them (``mailer-daemon``), and, for the many responders that mark nothing,
by their subject (``Automatic reply:``, Indonesian ``Balasan otomatis:``, ...).
"""

from __future__ import annotations

import re
from email.message import Message

from connectors.email.mime import header_text

_SUBJECT = re.compile(
    r"^\s*(?:"
    r"auto(?:matic)?[ -]?(?:reply|response|answer)|autoreply|auto:|out of (?:the )?office|away from|"
    r"balasan otomatis|jawaban otomatis|sedang cuti|di luar kantor|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|risposta automatica|"
    r"respuesta autom[aá]tica|automatyczna odpowied|automatisch antwoord|"
    r"undeliverable|undelivered mail|undeliverable mail|delivery status notification|"
    r"delivery (?:has )?failed|mail delivery failed|failure notice|returned mail|"
    r"message not delivered|tidak terkirim|read:|dibaca:|gelesen:|lu :|"
    r"read receipt|return receipt|disposition notification"
    r")",
    re.IGNORECASE,
)
_MACHINE_SENDERS = re.compile(r"^(?:mailer-daemon|mail-daemon|mailerdaemon)(?:[+@.-]|$)", re.I)
_NO_REPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply|bounces?)(?:[+.-]|$)", re.I)
_REPORTS = frozenset(
    {"message/delivery-status", "message/disposition-notification", "message/feedback-report", "text/rfc822-headers"}
)
_BULK = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})


def automatic_reason(message: Message, sender: str | None) -> str | None:
    """Why the mail was sent by a machine, or None for a person's mail."""
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response-Suppress"):
        value = header_text(message, name)
        if value and value.lower() != "no":
            return f"{name}: {value}"
    precedence = header_text(message, "Precedence").lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "Feedback-ID", "X-Campaign"):
        if header_text(message, name):
            return f"{name} (a mailing list or bulk sender)"
    report = _report_type(message)
    if report:
        return report
    if message.get("Return-Path") is not None and header_text(message, "Return-Path").strip() in {"<>", ""}:
        return "an empty Return-Path (a bounce or notification)"
    if sender and _MACHINE_SENDERS.match(sender.partition("@")[0]):
        return "sent by a mail system"
    subject = header_text(message, "Subject")
    if _SUBJECT.match(subject):
        return "its subject marks an automatic message"
    if header_text(message, "Disposition-Notification-To") and not message.is_multipart() and not subject:
        return "a read receipt"
    return None


def _report_type(message: Message) -> str | None:
    if message.get_content_type() == "multipart/report":
        kind = message.get_param("report-type") or "report"
        return f"a {kind} report"
    for part in message.walk():
        if part.get_content_type() in _REPORTS:
            return f"a {part.get_content_type()} part"
    return None


def is_no_reply(address: str) -> bool:
    """``noreply@``, ``mailer-daemon@`` and the like: nobody reads what is sent there."""
    local = address.partition("@")[0]
    return bool(_NO_REPLY.match(local) or _MACHINE_SENDERS.match(local))
