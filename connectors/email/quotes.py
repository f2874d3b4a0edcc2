"""The new part of a mail: quoted history and the signature cut off the text officers read.

``mail-parser-reply`` finds the quote headers ("On ... wrote:", Outlook's From/Sent/To block, its
own list of languages); Indonesian is not among its languages, so its patterns are added here:
Gmail's "Pada ... menulis:", Outlook's "Dari:/Dikirim:/Kepada:/Perihal:" block, "Dikirim dari"
phone footers. The whole text is kept beside the shortened one (``extra["full_text"]``).
"""

from __future__ import annotations

import re

from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE
from mailparser_reply.parser import EmailMessage as _LibraryMessage

LANGUAGES = ["id", "en", "de", "fr", "it", "es", "nl", "pl"]
INDONESIAN: dict[str, str | list[str]] = {
    "wrote_header": r"^(" + QUOTED_MATCH_INCLUDE + r"Pada\s(?:.+?\s?.+?)\s?menulis\s?:)$",
    "from_header": r"((?:(?:^|\n|\n"
    + QUOTED_MATCH_INCLUDE
    + r")[* ]*(?:Dari|Dikirim|Kepada|Perihal|Subjek|Tanggal|Cc):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
    "disclaimers": [r"(?:Catatan|Pemberitahuan) kerahasiaan:"],
    "signatures": ["Salam hangat", "Hormat kami", r"Hormat saya,?$"],
    "sent_from": "Dikirim dari|Sent from",
}
_FORWARD = re.compile(
    r"^\s*(?:-{3,}\s*(?:Forwarded message|Pesan terusan)\s*-{3,}|Begin forwarded message:)",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|tr|wg|i|doorst|enc|pesan terusan)\s*:", re.IGNORECASE)


class _Message(_LibraryMessage):  # type: ignore[misc]  # the library has no type hints
    """The library's message, reading Indonesian from our table (it has no hook for another)."""

    def _get_language_regex(self, language: str, regex_key: str) -> str:
        if language == "id":
            pattern = INDONESIAN[regex_key]
            return "|".join(pattern) if isinstance(pattern, list) else pattern
        return str(super()._get_language_regex(language, regex_key))


_LANGUAGES = [language for language in LANGUAGES if language == "id" or language in MAIL_LANGUAGES]


def latest_reply(text: str, subject: str = "") -> str:
    """``text`` without the quoted history and signature under it; the whole text for a
    forward (what was forwarded is the report), or when nothing would be left."""
    if not text.strip() or _FORWARD_SUBJECT.match(subject) or _FORWARD.search(text):
        return text
    try:
        message = _Message(text=text, languages=list(_LANGUAGES), keep_hyphen_lists=True).read()
    except Exception:  # noqa: BLE001 - a pattern the library chokes on: the whole text
        return text
    reply = message.replies[0].body if message.replies else ""
    return reply if reply.strip() else text
