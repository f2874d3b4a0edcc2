"""Rules every channel's messages go through after their own parser (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from inscriptis import get_text

from envelopes import NormalizedMessage, Reporter

DEFAULT_REGION = "ID"
MAX_TEXT_CHARS = 100_000
MAX_SUBJECT_CHARS = 500

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f"
CONTROL = re.compile(rf"[{_CONTROL_CHARS}]")
"""A control character (Unicode ``Cc``: C0, DEL, C1): a NUL PostgreSQL cannot store, a terminal
escape. The one rule for every part: a name or a lookup key has none; a text keeps its layout."""
_STRAY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
"""A control character other than a line break or a space-like one (made single spaces later)."""


PHONES_REMEMBERED = 20_000


@lru_cache(maxsize=PHONES_REMEMBERED)
def normalize_phone(raw: str | None) -> str | None:
    """E.164 for a valid number (Indonesia by default), else None; letters are never mapped to digits.

    Remembered per process: every message of a chat on WhatsApp or SMS carries the same number,
    and parsing one costs more than the rest of the common rules together."""
    if not raw or _LETTERS.search(raw):
        return None
    try:
        number = phonenumbers.parse(raw.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    """Lower-cased, trimmed address, or None when it is not an address at all."""
    if not raw:
        return None
    address = raw.strip().strip("<>").strip().lower()
    return address if _EMAIL.match(address) else None


def html_to_text(html: str) -> str:
    return str(get_text(html))


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Unicode NFC, no control characters, single spaces, at most two blank lines, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _STRAY_CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()[:limit]


def clean_line(text: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    return " ".join(clean_text(text).split())[:limit]


def apply_common_rules(message: NormalizedMessage) -> NormalizedMessage:
    """The channel-agnostic clean-up: reporter contacts, HTML to text, whitespace."""
    text = message.text
    if not text.strip() and message.html:
        text = html_to_text(message.html)
    reporter = message.reporter
    cleaned_reporter = Reporter(
        name=clean_line(reporter.name, 255) or None if reporter.name else None,
        email=normalize_email(reporter.email),
        phone=reporter.phone or normalize_phone(reporter.phone_raw),
        phone_raw=reporter.phone_raw,
        channel_user_id=reporter.channel_user_id,
        handle=reporter.handle,
        reporter_id=reporter.reporter_id,
    )
    return message.model_copy(
        update={
            "text": clean_text(text),
            "html": None,
            "subject": clean_line(message.subject),
            "reporter": cleaned_reporter,
        }
    )
