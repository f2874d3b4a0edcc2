"""Tracking numbers a person can read over the phone: ``ULT-26-00042-7``.

Prefix, two-digit year, a sequence number that counts up within the year, and a Damm check
digit over the year and sequence. The Damm algorithm detects every single mistyped digit and
every swap of two adjacent digits, the two mistakes people make when reading numbers aloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Damm's totally anti-symmetric quasigroup of order 10.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

SEQUENCE_WIDTH = 5
_PATTERN = re.compile(r"^\s*#?([A-Za-z]{1,6})[\s-]*(\d{2})[\s-]*(\d{5,9})[\s-]*(\d)\s*$")


def damm_digit(digits: str) -> int:
    """The check digit that makes the Damm checksum of ``digits + check`` zero."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return interim


@dataclass(frozen=True, slots=True)
class TrackingNumber:
    prefix: str
    year: int
    """Two-digit year."""
    sequence: int

    @property
    def check(self) -> int:
        return damm_digit(self._digits)

    @property
    def _digits(self) -> str:
        return f"{self.year:02d}{self.sequence:0{SEQUENCE_WIDTH}d}"

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year:02d}-{self.sequence:0{SEQUENCE_WIDTH}d}-{self.check}"


def parse_tracking_number(text: str) -> TrackingNumber | None:
    """Read a tracking number as a person might type it; None if malformed or the check fails."""
    match = _PATTERN.match(text)
    if match is None:
        return None
    prefix, year, sequence, check = match.groups()
    if damm_digit(year + sequence + check) != 0:
        return None
    return TrackingNumber(prefix.upper(), int(year), int(sequence))
