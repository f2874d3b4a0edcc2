"""Dates and times as officers type them, read in the unit's zone; phones as Excel leaves them."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from connectors._sheets.moments import BadValue, phone_text, read_date, read_time
from connectors._sheets.sheet import decode, header_key


@pytest.mark.parametrize(
    ("typed", "day", "at"),
    [
        ("01/10/2026", date(2026, 10, 1), None),
        ("1-10-26", date(2026, 10, 1), None),
        ("01.10.2026", date(2026, 10, 1), None),
        ("2026-11-02 14:05", date(2026, 11, 2), time(14, 5)),
        ("02/11/2026 08.15", date(2026, 11, 2), time(8, 15)),
        ("Senin, 2 November 2026", date(2026, 11, 2), None),
        ("3 Nov 2026", date(2026, 11, 3), None),
        ("5 Agu 2026", date(2026, 8, 5), None),
        ("17 Agustus 2026", date(2026, 8, 17), None),
        ("12 Okt 2026", date(2026, 10, 12), None),
        ("24 Des 2026", date(2026, 12, 24), None),
        ("Jumat, 1 Mei 2026", date(2026, 5, 1), None),
        ("2 Oct 2026", date(2026, 10, 2), None),
        (datetime(2026, 10, 1), date(2026, 10, 1), None),
        (datetime(2026, 10, 1, 9, 30), date(2026, 10, 1), time(9, 30)),
        (46296, date(2026, 10, 1), None),
    ],
)
def test_dates_as_officers_type_them(typed: object, day: date, at: time | None) -> None:
    assert read_date(typed) == (day, at)  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", ["31/02/2026", "kemarin", "", None, "32 Okt 2026", "1 Foo 2026"])
def test_what_is_no_date_is_refused(typed: str | None) -> None:
    with pytest.raises(BadValue):
        read_date(typed)


@pytest.mark.parametrize(
    ("typed", "at"),
    [("08.15", time(8, 15)), ("8:05", time(8, 5)), ("19.20 WITA", time(19, 20)), ("08:15:30", time(8, 15, 30)),
     (0.5, time(12, 0)), (time(7, 55), time(7, 55))],
)  # fmt: skip
def test_times_with_a_dot_or_a_colon(typed: object, at: time) -> None:
    assert read_time(typed) == at  # type: ignore[arg-type]


def test_a_phone_excel_made_a_number_gets_its_leading_zero_or_plus_back() -> None:
    assert phone_text(81234567890) == "081234567890"
    assert phone_text(6281234567890) == "+6281234567890"
    assert phone_text(5428530800) == "05428530800"
    assert phone_text("0812-3456-7890") == "0812-3456-7890"


def test_headers_match_loosely_and_excel_encodings_decode() -> None:
    assert header_key("No. HP/Telepon") == header_key(" no hp  telepon ") == "no hp telepon"
    assert decode("José – ’".encode("cp1252")) == "José – ’"
    assert decode("\ufeffNo;Tanggal".encode()) == "No;Tanggal"
