"""Working-day deadlines across the 2025-2027 holidays and cuti bersama, after-hours arrivals,
the clock stopped while a case waits for the reporter, one extension, and per-kind profiles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from config.settings import DEFAULT_CALENDAR_FILE, ConfigError, SlaSettings, load_settings
from triage.calendar import WorkingCalendar, load_decreed
from triage.deadlines import Clock, profile
from workers import cli

WITA = ZoneInfo("Asia/Makassar")
CLOSES = time(16, 0)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar(WITA, CLOSES, decreed=load_decreed(DEFAULT_CALENDAR_FILE))


def wita(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WITA)


# (arrived, local; working days; due, local) - domain.md section 2.2 vectors first.
TABLE = [
    ("2026-03-13 10:00", 1, "2026-03-16 16:00"),  # Fri -> Mon
    ("2026-03-13 10:00", 5, "2026-03-27 16:00"),  # across Nyepi (19), cuti (18, 20, 23, 24), Idul Fitri (21-22)
    ("2026-03-17 09:00", 1, "2026-03-25 16:00"),
    ("2026-03-17 09:00", 2, "2026-03-26 16:00"),
    ("2026-03-17 09:00", 5, "2026-03-31 16:00"),
    ("2026-12-23 11:00", 1, "2026-12-28 16:00"),  # cuti bersama 24 Dec, Natal 25 Dec
    ("2026-12-23 11:00", 5, "2027-01-04 16:00"),  # and New Year across the year boundary
    ("2025-03-27 08:00", 1, "2025-04-08 16:00"),  # Nyepi 29 Mar, Idul Fitri 31 Mar-1 Apr, cuti 28 Mar, 2-7 Apr
    ("2025-03-27 08:00", 5, "2025-04-14 16:00"),
    ("2027-03-05 13:00", 1, "2027-03-16 16:00"),  # Nyepi 8 Mar, cuti 9, 12, 15 Mar 2027, Idul Fitri (estimated)
    ("2027-03-08 13:00", 1, "2027-03-17 16:00"),  # arriving on Nyepi itself counts from 16 Mar
    ("2027-03-08 13:00", 5, "2027-03-23 16:00"),
    # after hours, weekends and holidays: counting starts at the next working day
    ("2026-03-20 19:20", 2, "2026-03-27 16:00"),  # a cuti bersama evening before Lebaran
    ("2026-11-20 19:20", 2, "2026-11-25 16:00"),  # Friday evening
    ("2026-11-20 15:59", 2, "2026-11-24 16:00"),  # one minute before closing counts that day
    ("2026-11-20 16:00", 2, "2026-11-25 16:00"),  # closing time itself does not
    ("2026-11-21 09:00", 1, "2026-11-24 16:00"),  # Saturday
    ("2026-11-24 05:30", 1, "2026-11-25 16:00"),  # before opening counts as that day
    ("2025-08-15 17:00", 1, "2025-08-20 16:00"),  # after hours; 17 Aug (Sunday), joint holiday 18 Aug 2025
    ("2025-12-24 10:00", 1, "2025-12-29 16:00"),  # Natal 25 Dec, cuti bersama 26 Dec 2025
    ("2027-12-23 10:00", 1, "2027-12-27 16:00"),  # cuti 24 Dec 2027, Natal on a Saturday
    ("2026-05-13 10:00", 1, "2026-05-18 16:00"),  # Kenaikan 14 May, cuti bersama 15 May 2026
    ("2026-05-26 10:00", 2, "2026-06-02 16:00"),  # Idul Adha 27 May, cuti 28 May, Waisak 31 May, Pancasila 1 Jun
]


VECTORS = [  # domain.md section 2.2: start day, +1, +2, +5 working days, on the decreed calendar
    ("2026-03-13", "2026-03-16", "2026-03-17", "2026-03-27"),
    ("2026-03-17", "2026-03-25", "2026-03-26", "2026-03-31"),
    ("2026-12-23", "2026-12-28", "2026-12-29", "2027-01-04"),
    ("2025-03-27", "2025-04-08", "2025-04-09", "2025-04-14"),
    ("2027-03-08", "2027-03-16", "2027-03-17", "2027-03-22"),
]


@pytest.mark.parametrize(("start", "one", "two", "five"), VECTORS)
def test_research_vectors_on_the_decreed_calendar(
    calendar: WorkingCalendar, start: str, one: str, two: str, five: str
) -> None:
    day = date.fromisoformat(start)
    assert [calendar.add_working_days(day, n).isoformat() for n in (1, 2, 5)] == [one, two, five]


@pytest.mark.parametrize(("arrived", "days", "due"), TABLE)
def test_deadline_table(calendar: WorkingCalendar, arrived: str, days: int, due: str) -> None:
    result = calendar.deadline(wita(arrived), days)
    assert result.astimezone(WITA) == wita(due)
    assert result.tzinfo == UTC


def test_the_file_lists_every_cuti_bersama_of_the_research_table() -> None:
    decreed = load_decreed(DEFAULT_CALENDAR_FILE)
    expected = {
        "2025-01-28", "2025-03-28", "2025-04-02", "2025-04-03", "2025-04-04", "2025-04-07", "2025-05-13",
        "2025-05-30", "2025-06-09", "2025-08-18", "2025-12-26",
        "2026-02-16", "2026-03-18", "2026-03-20", "2026-03-23", "2026-03-24", "2026-05-15", "2026-05-28",
        "2026-12-24",
        "2027-02-05", "2027-03-09", "2027-03-12", "2027-03-15", "2027-03-25", "2027-05-18", "2027-05-19",
        "2027-12-24",
    }  # fmt: skip
    assert {d.isoformat() for d in decreed.cuti_bersama} == expected
    assert date(2027, 1, 5) in decreed.public and date(2027, 12, 26) in decreed.public  # two Isra Mikraj


def test_a_decree_changed_in_the_file_moves_the_deadline(tmp_path: Path) -> None:
    """An admin adds a day by decree to calendar.toml: deadlines follow it."""
    moved = tmp_path / "calendar.toml"
    moved.write_text(
        DEFAULT_CALENDAR_FILE.read_text() + '\n[[day]]\ndate = 2026-11-26\nkind = "cuti_bersama"\nname = "decree"\n'
    )
    before = WorkingCalendar(WITA, CLOSES, decreed=load_decreed(DEFAULT_CALENDAR_FILE))
    after = WorkingCalendar(WITA, CLOSES, decreed=load_decreed(moved))
    assert before.deadline(wita("2026-11-25 10:00"), 1).astimezone(WITA) == wita("2026-11-26 16:00")
    assert after.deadline(wita("2026-11-25 10:00"), 1).astimezone(WITA) == wita("2026-11-27 16:00")
    without_cuti = WorkingCalendar(WITA, CLOSES, count_cuti_bersama=False, decreed=load_decreed(moved))
    assert without_cuti.is_working_day(date(2026, 11, 26))


def test_a_broken_calendar_file_is_refused_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "calendar.toml"
    broken.write_text('years = [2026]\n[[day]]\ndate = 2027-01-01\nkind = "libur_nasional"\n')
    with pytest.raises(ConfigError, match=r"calendar\.toml: days of \[2027\]"):
        load_decreed(broken)
    broken.write_text('years = [2026]\n[[day]]\ndate = 2026-01-01\nkind = "libur"\n')
    with pytest.raises(ConfigError, match=r"day\.0\.kind"):
        load_decreed(broken)


def test_a_year_the_file_does_not_list_comes_from_the_package(calendar: WorkingCalendar) -> None:
    assert not calendar.is_working_day(date(2028, 8, 17))  # Independence Day 2028
    assert calendar.is_working_day(date(2028, 8, 16))


def clock(calendar: WorkingCalendar, **sla: object) -> Clock:
    return Clock(calendar, SlaSettings.model_validate(sla))


def test_a_complaint_gets_its_deadlines_from_the_profile(calendar: WorkingCalendar) -> None:
    due = clock(calendar).on_receipt("pengaduan", "sarpras", wita("2026-03-13 10:00"))
    assert due["verify_due"].astimezone(WITA) == wita("2026-03-17 16:00")  # 2 wd
    assert due["first_response_due"].astimezone(WITA) == wita("2026-03-17 16:00")
    assert due["resolution_due"].astimezone(WITA) == wita("2026-03-27 16:00")  # 5 wd
    assert due["final_due"].astimezone(WITA) == wita("2026-05-12 16:00")  # 60 calendar days


def test_an_information_request_has_ten_working_days_and_seventeen_at_most(calendar: WorkingCalendar) -> None:
    watch = clock(calendar)
    due = watch.on_receipt("permintaan_informasi", "frontdesk", wita("2026-11-02 10:00"))
    assert due["resolution_due"].astimezone(WITA) == wita("2026-11-16 16:00")  # 10 wd
    assert due["final_due"].astimezone(WITA) == wita("2026-11-25 16:00")  # 17 wd
    rules = profile(watch.sla, "permintaan_informasi", "frontdesk")
    later = watch.extended(rules, due["resolution_due"], due["final_due"])
    assert later.astimezone(WITA) == wita("2026-11-25 16:00"), "the one extension adds 7 working days"


def test_a_complaints_extension_never_passes_the_legal_ceiling(calendar: WorkingCalendar) -> None:
    watch = clock(calendar, extension_days=30, final_days=20)
    due = watch.on_receipt("pengaduan", "sarpras", wita("2026-11-02 10:00"))
    rules = profile(watch.sla, "pengaduan", "sarpras")
    assert watch.extended(rules, due["resolution_due"], due["final_due"]) == due["final_due"]


def test_a_category_overrides_the_kind(calendar: WorkingCalendar) -> None:
    watch = clock(calendar, categories={"ppkpt": {"resolution_days": 3}})
    assert profile(watch.sla, "pengaduan", "ppkpt").resolution_days == 3
    assert profile(watch.sla, "pengaduan", "sarpras").resolution_days == 5
    due = watch.on_receipt("pengaduan", "ppkpt", wita("2026-11-02 10:00"))
    assert due["resolution_due"].astimezone(WITA) == wita("2026-11-05 16:00")


@pytest.mark.parametrize(
    ("paused", "resumed", "lost", "resolution"),
    [
        ("2026-11-02 10:00", "2026-11-02 15:00", 0, "2026-11-09 16:00"),  # answered the same day: nothing lost
        ("2026-11-02 10:00", "2026-11-04 09:00", 2, "2026-11-11 16:00"),  # two working days stopped
        ("2026-11-06 10:00", "2026-11-09 08:00", 1, "2026-11-16 16:00"),  # over a weekend: Fri -> Mon is one
        ("2026-12-23 10:00", "2026-12-28 10:00", 1, "2026-12-11 16:00"),  # across cuti 24 + Natal 25: one day
    ],
)
def test_the_clock_stops_while_waiting(
    calendar: WorkingCalendar, paused: str, resumed: str, lost: int, resolution: str
) -> None:
    watch = clock(calendar)
    assert calendar.working_days_between(wita(paused), wita(resumed)) == lost
    start = wita(paused) if lost != 1 or "12-23" not in paused else wita("2026-12-03 10:00")
    case: dict[str, Any] = {
        "kind": "pengaduan",
        "category": "sarpras",
        **watch.on_receipt("pengaduan", "sarpras", start),
    }
    moved = watch.resumed(case, wita(paused), wita(resumed))
    assert moved["resolution_due"].astimezone(WITA) == wita(resolution)
    assert moved["final_due"] - case["final_due"] == timedelta(days=(wita(resumed) - wita(paused)).days)


def test_a_met_deadline_is_not_moved(calendar: WorkingCalendar) -> None:
    watch = clock(calendar)
    case: dict[str, Any] = {
        "kind": "pengaduan",
        "category": "sarpras",
        "forwarded_at": wita("2026-11-02 11:00"),
        **watch.on_receipt("pengaduan", "sarpras", wita("2026-11-02 10:00")),
    }
    moved = watch.resumed(case, wita("2026-11-03 10:00"), wita("2026-11-05 10:00"))
    assert "verify_due" not in moved and "resolution_due" in moved


def test_the_calendar_command_prints_the_receipt_day_and_the_due_moment(tmp_path: Path) -> None:
    env = {"SATUPINTU_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        cli, ["calendar", "due", "2026-03-20 19:20", "--days", "2", "--format", "json"], env=env, obj={}
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["receipt_day"] == "2026-03-25"
    assert answer["due"] == "2026-03-27T16:00:00+08:00"
    table = CliRunner().invoke(cli, ["calendar", "due", "2026-03-20 19:20", "--days", "2"], env=env, obj={}).output
    assert "2026-03-25" in table and "Cuti Bersama" in table
    jakarta = {**env, "SATUPINTU_TIMEZONE": "Asia/Jakarta"}
    answer = json.loads(
        CliRunner()
        .invoke(cli, ["calendar", "due", "2026-11-20 10:00", "--days", "2", "--format", "json"], env=jakarta, obj={})
        .output
    )
    assert answer["due"] == "2026-11-24T16:00:00+07:00"
    bad = CliRunner().invoke(cli, ["calendar", "due", "kemarin", "--days", "2"], env=env, obj={})
    assert bad.exit_code == 2 and "is not a date and time" in bad.output


def test_settings_take_sla_per_kind_and_category() -> None:
    settings = load_settings(sla={"categories": {"spi": {"resolution_days": 10}}})
    assert settings.sla.kinds["permintaan_informasi"].resolution_days == 10
    assert settings.sla.categories["spi"].resolution_days == 10


def test_self_harm_is_urgent_the_same_day_whatever_the_hour(calendar: WorkingCalendar) -> None:
    watch = clock(calendar)
    assert watch.urgent(["darurat.risiko_bunuh_diri", "jenis.keluhan"]) and not watch.urgent(["jenis.keluhan"])
    saturday_night = wita("2026-11-21 22:00")
    due = watch.on_receipt("pengaduan", "frontdesk", saturday_night, urgent=True)
    assert due["first_response_due"].astimezone(WITA) == wita("2026-11-22 01:00")
    assert due["verify_due"] == due["first_response_due"]
    assert due["resolution_due"] == watch.on_receipt("pengaduan", "frontdesk", saturday_night)["resolution_due"]
