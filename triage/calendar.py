"""Working days of the unit: weekends, Indonesian holidays and cuti bersama do not count.

The rule (DESIGN.md "Time"): the receipt day of a message arriving at local time t is t's date
if that is a working day and t is before closing (before opening counts as that day), otherwise
the next working day. A deadline of N working days falls at closing time on the Nth working day
after the receipt day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from holidays.constants import GOVERNMENT, PUBLIC


class WorkingCalendar:
    """Counts working days in one unit's zone and office hours."""

    def __init__(
        self,
        zone: ZoneInfo,
        closes: time,
        *,
        count_cuti_bersama: bool = True,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        self.zone = zone
        self.closes = closes
        self._categories = (PUBLIC, GOVERNMENT) if count_cuti_bersama else (PUBLIC,)
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._is_working_day = lru_cache(maxsize=4096)(self._compute_working_day)

    def is_working_day(self, day: date) -> bool:
        return self._is_working_day(day)

    def _compute_working_day(self, day: date) -> bool:
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays or day.weekday() >= 5:
            return False
        return day not in _national_holidays(day.year, self._categories)

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def receipt_day(self, moment: datetime) -> date:
        """The working day a message arriving at ``moment`` counts from."""
        local = moment.astimezone(self.zone)
        if self.is_working_day(local.date()) and local.time() < self.closes:
            return local.date()
        return self.next_working_day(local.date())

    def add_working_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def deadline(self, moment: datetime, working_days: int) -> datetime:
        """Closing time, in UTC, on the ``working_days``-th working day after the receipt day."""
        due_day = self.add_working_days(self.receipt_day(moment), working_days)
        return datetime.combine(due_day, self.closes, tzinfo=self.zone).astimezone(UTC)


@lru_cache(maxsize=64)
def _national_holidays(year: int, categories: tuple[str, ...]) -> frozenset[date]:
    calendar = holidays.country_holidays("ID", years=year, categories=categories, language="id")
    return frozenset(calendar.keys())
