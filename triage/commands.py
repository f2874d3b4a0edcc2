"""What a message says before it is a report: a status command, nothing to act on ("halo",
"tes", a sticker alone), or tracking numbers it quotes; and the short answers to the first two.

A status answer goes only to the case's reporter; anyone else gets exactly the answer a number
nobody has gets, so that a tracking number tells a stranger nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from envelopes import NormalizedMessage
from storage.status import CaseStatus
from triage.texts import Text, Texts, greeting_name
from triage.tracking import parse_tracking_number

_NUMBER = r"#?[A-Za-z]{1,6}[\s-]*\d{2}[\s-]*\d{5,9}[\s-]*\d"
_STATUS = re.compile(
    rf"^\s*/?(?:status|cek|check)(?:@\w+)?(?:\s+status)?[\s:]*(?P<number>{_NUMBER})?\s*[.!?]*\s*$",
    re.IGNORECASE,
)
_QUOTED = re.compile(rf"(?<![A-Za-z0-9])(?P<number>{_NUMBER})(?!\d)")
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FILLER = _words(
    """
    halo hallo hello helo hai hi hei hey p ping tes test testing coba x y ok oke okay ya iya sip
    pagi siang sore malam selamat good morning afternoon evening night
    assalamualaikum assalamu alaikum alaikumsalam waalaikumsalam wr wb warahmatullahi wabarakatuh
    permisi min admin kak pak bu bapak ibu mas mbak gan sis bro
    start mulai help bantuan menu info status cek
    terima kasih makasih thanks thank you thx tq
    """
)
"""Words a message with nothing to act on is made of: greetings, tests, salutations, thanks."""
_ENGLISH = _words("hello hey good morning afternoon evening night thanks thank you thx help please")
_NO_SUBSTANCE_MEDIA = frozenset({"sticker", "reaction"})
"""Media that say nothing on their own; a photo, a voice note or a document may be the report."""
SHORTEST_REPORT = 3
"""Fewer letters than this ("x", "ok") is nothing to act on, whatever the words."""


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """``status ULT-26-00042-8``: ``number`` is the canonical tracking number, or None when what
    was typed is not one (a wrong check digit answers like a number nobody has)."""

    number: str | None


def status_command(message: NormalizedMessage) -> StatusCommand | None:
    """The status command the whole message is ("status <no>", "cek <no>", Telegram's
    ``/status <no>`` or ``/status@bot <no>``), or None. "status" alone is no command: it gets the
    greeting, which says how to ask."""
    match = _STATUS.match(message.text)
    if match is None or match.group("number") is None:
        return None
    parsed = parse_tracking_number(match.group("number"))
    return StatusCommand(None if parsed is None else str(parsed))


def quoted_tracking_numbers(message: NormalizedMessage, prefix: str) -> list[str]:
    """The valid tracking numbers with our prefix that the subject or text quotes, in order."""
    found: list[str] = []
    for source in (message.subject, message.text):
        for match in _QUOTED.finditer(source):
            parsed = parse_tracking_number(match.group("number"))
            if parsed is not None and parsed.prefix == prefix and str(parsed) not in found:
                found.append(str(parsed))
    return found[:5]


def nothing_to_act_on(message: NormalizedMessage) -> bool:
    """A greeting, a test, a thank-you, an empty message or a sticker alone: nothing an officer
    could act on. A file or a photo may be evidence, and counts as something."""
    if message.attachments or any(m.kind not in _NO_SUBSTANCE_MEDIA for m in message.media):
        return False
    words = [w.lower() for w in _WORD.findall(f"{message.subject} {message.text}")]
    letters = sum(len(w) for w in words)
    return letters < SHORTEST_REPORT or all(w in FILLER for w in words)


def is_english(message: NormalizedMessage) -> bool:
    """English when the normalizer says so, or when a greeting uses words only English has."""
    if message.language.lower().startswith("en"):
        return True
    words = {w.lower() for w in _WORD.findall(message.text)}
    return bool(words & _ENGLISH) and not words & (FILLER - _ENGLISH - {"hi", "ok", "okay", "test", "testing"})


def greeting(texts: Texts, english: bool, channel: str) -> Text:
    """The answer to a message with nothing to act on: how to report, how to ask for status, in
    words that suit ``channel`` (a form's greeting points to the form)."""
    return texts.render(greeting_name(channel), "en" if english else "id")


def status_answer(texts: Texts, case: CaseStatus | None, english: bool) -> Text:
    """The answer to a status command: the case's state and next deadline, by the public status
    page's rule and wording (no unit when confidential), or the one answer for every other case."""
    from public_pages.status import case_view

    language = "en" if english else "id"
    if case is None:
        return texts.render("status_unknown", language)
    view = case_view(case, texts.zone)
    upcoming = view["next_deadline"]
    return texts.render(
        "status",
        language,
        tracking_number=case.tracking_number,
        status=case.status,
        status_text=view["status_text"],
        closed=case.closed_at is not None,
        confidential=case.confidential,
        unit_name=case.unit_name,
        deadline=upcoming["kind"] if upcoming else None,
        due=datetime.fromisoformat(upcoming["due"]) if upcoming else None,
    )
