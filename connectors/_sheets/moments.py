"""Dates and times as officers type them, and phone numbers as Excel leaves them.

Dates: day first with any separator (``01/10/2026``, ``1-10-26``, ``01.10.2026``), ISO
(``2026-11-02``, with a time ``2026-11-02 14:05``), or with the month's name or abbreviation in
Indonesian or English, with or without the weekday (``Senin, 2 November 2026``, ``3 Nov 2026``,
``5 Agu 2026``); a real Excel date, or an Excel serial day number. Times: ``08.15``, ``8:15``,
``08:15:00``, ``08.15 WITA``, or a time cell. Everything is read in the unit's zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors._sheets.sheet import Value

MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "pebruari": 2, "peb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nop": 11, "nopember": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's serial dates (its 1900 leap-year bug folded in)."""

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(.+))?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.\s](\d{1,2})[-/.\s](\d{2}|\d{4})(?:[ T]+(.+))?$")
_NAMED = re.compile(r"^(?:[A-Za-z']+,?\s+)?(\d{1,2})[-\s.]+([A-Za-z]+)\.?[-\s.,]+(\d{2}|\d{4})(?:[ ,]+(.+))?$")
_TIME = re.compile(r"^(\d{1,2})[.:](\d{2})(?:[.:](\d{2}))?(?:\s*(?:WITA|WIB|WIT))?$", re.IGNORECASE)


class BadValue(ValueError):
    """A cell that cannot be read as what its column holds."""


def read_date(value: Value) -> tuple[date, time | None]:
    """The day, and the time of day when the cell carries one too."""
    if isinstance(value, datetime):
        return value.date(), value.time() if value.time() != time() else None
    if isinstance(value, date):
        return value, None
    if isinstance(value, int | float) and 1 <= value < 2_958_466:  # an Excel serial day
        whole = EXCEL_EPOCH + timedelta(days=float(value))
        moment = datetime.combine(EXCEL_EPOCH, time()) + timedelta(days=float(value))
        return whole, moment.time() if moment.time() != time() else None
    text = "" if value is None else " ".join(str(value).split())
    try:
        if match := _ISO.match(text):
            year, month, day, rest = match.groups()
            return date(int(year), int(month), int(day)), read_time(rest) if rest else None
        if match := _NUMERIC.match(text):
            day, month, year, rest = match.groups()
            return date(_year(year), int(month), int(day)), read_time(rest) if rest else None
        if (match := _NAMED.match(text)) and match.group(2).lower() in MONTHS:
            day, month_name, year, rest = match.groups()
            day_of = date(_year(year), MONTHS[month_name.lower()], int(day))
            return day_of, read_time(rest) if rest else None
    except ValueError:
        raise BadValue(text) from None
    raise BadValue(text)


def read_time(value: Value) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, float) and 0 <= value < 1:  # Excel's fraction of a day
        seconds = round(value * 86_400)
        return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    text = "" if value is None else str(value).strip()
    match = _TIME.match(text)
    if match is None:
        raise BadValue(text)
    hour, minute, second = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError:
        raise BadValue(text) from None


def moment(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    """The local moment; a row without a time counts from the start of its day."""
    return datetime.combine(day, at or time(), tzinfo=zone)


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def phone_text(value: Value) -> str:
    """A phone cell as typed. A number cell lost its leading 0 (``81234567890``): put it back;
    one typed with the country code (``6281…``) keeps it, as ``+62…``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = str(int(value))
        return f"+{digits}" if digits.startswith("62") and len(digits) >= 10 else f"0{digits}"
    return "" if value is None else str(value).strip()


NO_VALUE = frozenset({"", "-", "--", "—", "–", "n/a", "na", "tidak ada", "tdk ada", "0"})


def absent(text: str) -> bool:
    """``-``, ``tidak ada``, empty: the officer wrote that there is none."""
    return text.strip().lower() in NO_VALUE
