"""Working days in Asia/Makassar: weekends, public holidays and cuti bersama do not count."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from triage.calendar import WorkingCalendar

WITA = ZoneInfo("Asia/Makassar")
CLOSES = time(16, 0)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar(WITA, CLOSES)


# research/domain.md §2.2 test vectors: start, +1, +2, +5 working days
VECTORS = [
    ("2026-03-13", "2026-03-16", "2026-03-17", "2026-03-27"),
    ("2026-03-17", "2026-03-25", "2026-03-26", "2026-03-31"),
    ("2026-12-23", "2026-12-28", "2026-12-29", "2027-01-04"),
    ("2025-03-27", "2025-04-08", "2025-04-09", "2025-04-14"),
    ("2027-03-08", "2027-03-16", "2027-03-17", "2027-03-22"),
]


@pytest.mark.parametrize(("start", "one", "two", "five"), VECTORS)
def test_research_vectors(calendar: WorkingCalendar, start: str, one: str, two: str, five: str) -> None:
    day = date.fromisoformat(start)
    assert [calendar.add_working_days(day, n).isoformat() for n in (1, 2, 5)] == [one, two, five]


def test_friday_morning_plus_two_is_tuesday_closing(calendar: WorkingCalendar) -> None:
    due = calendar.deadline(datetime(2026, 11, 20, 10, 0, tzinfo=WITA), 2)
    assert due == datetime(2026, 11, 24, 16, 0, tzinfo=WITA)
    assert due.tzinfo == UTC


def test_friday_evening_counts_from_monday(calendar: WorkingCalendar) -> None:
    due = calendar.deadline(datetime(2026, 11, 20, 19, 20, tzinfo=WITA), 2)
    assert due == datetime(2026, 11, 25, 16, 0, tzinfo=WITA)


def test_before_opening_counts_as_that_day(calendar: WorkingCalendar) -> None:
    assert calendar.receipt_day(datetime(2026, 11, 24, 5, 0, tzinfo=WITA)) == date(2026, 11, 24)


def test_utc_evening_can_be_the_next_local_day(calendar: WorkingCalendar) -> None:
    # Monday 23:30 UTC is Tuesday 07:30 WITA
    assert calendar.receipt_day(datetime(2026, 11, 23, 23, 30, tzinfo=UTC)) == date(2026, 11, 24)


def test_cuti_bersama_is_off_unless_configured(calendar: WorkingCalendar) -> None:
    cuti = date(2026, 12, 24)  # Thursday, cuti bersama Natal
    assert not calendar.is_working_day(cuti)
    assert WorkingCalendar(WITA, CLOSES, count_cuti_bersama=False).is_working_day(cuti)
    assert not calendar.is_working_day(date(2026, 12, 25))  # Natal itself, a public holiday


def test_overrides_from_configuration_win(calendar: WorkingCalendar) -> None:
    decreed = date(2026, 11, 26)
    custom = WorkingCalendar(WITA, CLOSES, extra_holidays=[decreed], extra_workdays=[date(2026, 12, 24)])
    assert calendar.is_working_day(decreed) and not custom.is_working_day(decreed)
    assert custom.is_working_day(date(2026, 12, 24))
