"""Working days of the unit: weekends, Indonesian holidays and cuti bersama do not count.

The rule (DESIGN.md "Time"): the receipt day of a message arriving at local time t is t's date
if that is a working day and t is before closing (before opening counts as that day), otherwise
the next working day. A deadline of N working days falls at closing time on the Nth working day
after the receipt day.

Which days are off comes, in this order of precedence, from ``[office] extra_workdays`` /
``extra_holidays``, the decreed days of ``config/calendar.toml`` for the years it lists, and the
``holidays`` package for any other year.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from holidays.constants import GOVERNMENT, PUBLIC
from pydantic import BaseModel, ConfigDict, ValidationError

from config.settings import ConfigError, Settings


class _Day(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    kind: Literal["libur_nasional", "cuti_bersama"]
    name: str = ""


class _CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    years: list[int]
    day: list[_Day] = []


@dataclass(frozen=True, slots=True)
class Decreed:
    """The non-working days a decree set, for the years it covers in full."""

    years: frozenset[int] = frozenset()
    public: frozenset[date] = frozenset()
    cuti_bersama: frozenset[date] = frozenset()
    names: dict[date, str] = field(default_factory=dict)


def load_decreed(path: Path) -> Decreed:
    """Read ``calendar.toml``; a bad file stops start-up with one line naming it."""
    try:
        with path.open("rb") as handle:
            data = _CalendarFile.model_validate(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"calendar_file {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"calendar_file {path}: {where}: {first['msg']}") from None
    stray = sorted({d.date.year for d in data.day} - set(data.years))
    if stray:
        raise ConfigError(f"calendar_file {path}: days of {stray} but `years` does not list them")
    return Decreed(
        years=frozenset(data.years),
        public=frozenset(d.date for d in data.day if d.kind == "libur_nasional"),
        cuti_bersama=frozenset(d.date for d in data.day if d.kind == "cuti_bersama"),
        names={d.date: d.name for d in data.day},
    )


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
        decreed: Decreed | None = None,
    ) -> None:
        self.zone = zone
        self.closes = closes
        self._count_cuti = count_cuti_bersama
        self._categories = (PUBLIC, GOVERNMENT) if count_cuti_bersama else (PUBLIC,)
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._decreed = decreed or Decreed()
        self._is_working_day = lru_cache(maxsize=4096)(self._compute_working_day)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingCalendar:
        office = settings.office
        return cls(
            settings.zone,
            office.closes,
            count_cuti_bersama=office.count_cuti_bersama,
            extra_holidays=office.extra_holidays,
            extra_workdays=office.extra_workdays,
            decreed=load_decreed(settings.calendar_file),
        )

    def is_working_day(self, day: date) -> bool:
        return self._is_working_day(day)

    def _compute_working_day(self, day: date) -> bool:
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays or day.weekday() >= 5:
            return False
        decreed = self._decreed
        if day.year in decreed.years:
            return day not in decreed.public and not (self._count_cuti and day in decreed.cuti_bersama)
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

    def closing(self, day: date) -> datetime:
        """Closing time of ``day`` in the unit's zone, in UTC."""
        return datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)

    def deadline(self, moment: datetime, working_days: int) -> datetime:
        """Closing time, in UTC, on the ``working_days``-th working day after the receipt day."""
        return self.closing(self.add_working_days(self.receipt_day(moment), working_days))

    def calendar_deadline(self, moment: datetime, days: int) -> datetime:
        """Closing time ``days`` calendar days after the receipt day (the legal ceiling)."""
        return self.closing(self.receipt_day(moment) + timedelta(days=days))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days the clock lost while stopped from ``start`` to ``end``: how many receipt
        days later the end counts from than the start (0 for a pause within one working day)."""
        first, last = self.receipt_day(start), self.receipt_day(end)
        count = 0
        while first < last:
            first = self.next_working_day(first)
            count += 1
        return count

    def shift(self, due: datetime, working_days: int) -> datetime:
        """A deadline moved ``working_days`` later (the clock was stopped that long)."""
        if working_days <= 0:
            return due
        local_day = due.astimezone(self.zone).date()
        return self.closing(self.add_working_days(local_day, working_days))

    def holiday_name(self, day: date) -> str | None:
        """Why ``day`` is off, for officers checking the calendar after a decree."""
        if day in self._extra_holidays:
            return "extra_holidays"
        if day.year in self._decreed.years:
            return self._decreed.names.get(day)
        return _national_holidays(day.year, self._categories).get(day)


@lru_cache(maxsize=64)
def _national_holidays(year: int, categories: tuple[str, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year, categories=categories, language="id")
