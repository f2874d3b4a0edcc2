"""Timestamps as Meta sends them: Unix seconds as a string (WhatsApp), milliseconds as a number
(Instagram), and in some published samples ISO 8601 strings."""

from __future__ import annotations

from datetime import UTC, datetime

MILLISECONDS_FROM = 100_000_000_000
"""A Unix time above this is in milliseconds (in seconds it would be the year 5138)."""


def parse_time(value: object) -> datetime:
    """A zone-aware UTC time; ``ValueError`` for anything else."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and _numeric(value)):
        number = float(value)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            raise ValueError(f"time {value!r} has no zone")
        return moment.astimezone(UTC)
    else:
        raise ValueError(f"not a time: {type(value).__name__}")
    if number > MILLISECONDS_FROM:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time {value!r} is out of range") from exc


def _numeric(text: str) -> bool:
    return text.strip().lstrip("-").replace(".", "", 1).isdigit()
