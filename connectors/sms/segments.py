"""How many SMS a text costs: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

GSM-7: 160 septets in one SMS, 153 per part once it is split (the concatenation header takes the
rest); a character of the extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) takes two septets,
which are never split across parts. UCS-2: 70 UTF-16 units in one SMS, 67 per part; a character
outside the Basic Multilingual Plane (an emoji) takes two units, never split either. One accented
letter not in GSM-7 (``ê``) turns the whole text into UCS-2: an officer sees why a reply cost more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: Encoding
    segments: int
    characters: int

    def as_detail(self) -> dict[str, object]:
        return {"sms_encoding": self.encoding, "sms_segments": self.segments, "sms_characters": self.characters}


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def count(text: str) -> Segments:
    """The encoding the phone will use for ``text`` and the number of SMS it sends."""
    encoding = encoding_of(text)
    widths = [_width(c, encoding) for c in text]
    if sum(widths) <= SINGLE[encoding]:
        return Segments(encoding, 1, len(text))
    parts, used = 1, 0
    for width in widths:
        if used + width > PART[encoding]:
            parts, used = parts + 1, 0
        used += width
    return Segments(encoding, parts, len(text))


def _width(character: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if character in GSM7_EXTENSION else 1
    return 2 if ord(character) > 0xFFFF else 1
