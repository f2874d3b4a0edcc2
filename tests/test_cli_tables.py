"""The terminal's tables as an officer reads them: a header, and every column starting where
its header does, however long a status, a LAPOR! number or a role list; and ``pull`` naming
the channels it can pull when asked for one it cannot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from cli.views import CASE_HEADERS, case_table
from workers import cli


def starts(header: str, lines: list[str], column: str) -> list[str]:
    """The word each line has where ``column``'s header starts."""
    at = header.index(column)
    return [line[at:].split(" ")[0] for line in lines]


def test_cases_list_has_a_header_and_columns_that_hold_long_statuses_and_lapor_numbers() -> None:
    due = {"kind": "first_response", "due": datetime(2026, 12, 2, 8, tzinfo=UTC)}
    rows: list[dict[str, Any]] = [
        {"tracking_number": "ULT-26-00001-3", "external_ref": "4513104", "channel": "lapor", "kind": "pengaduan",
         "unit": "sarpras", "status": "waiting_reporter", "priority": "normal", "receipt_via": "lapor",
         "next_deadline": None, "overdue": False, "subject": "Jalan kampus rusak"},
        {"tracking_number": "ULT-26-00002-1", "external_ref": None, "channel": "whatsapp", "kind": "aspirasi",
         "unit": "akademik", "status": "received", "priority": "high", "receipt_via": None,
         "next_deadline": due, "overdue": True, "subject": "Jadwal ujian"},
    ]  # fmt: skip
    header, *lines = case_table(rows, ZoneInfo("Asia/Makassar"))
    assert header.split() == " ".join(CASE_HEADERS).split()
    assert starts(header, lines, "STATUS") == ["waiting_reporter", "received"]
    assert starts(header, lines, "PRIORITY") == ["normal", "high"]
    assert starts(header, lines, "UNIT") == ["sarpras", "akademik"]
    assert lines[0].startswith("ULT-26-00001-3 (LAPOR! 4513104) pengaduan")
    assert starts(header, lines, "SUBJECT") == ["Jalan", "Jadwal"]
    assert "due 2026-12-02 16:00 WITA first_response OVERDUE" in lines[1]


def test_connectors_list_has_a_header_and_a_long_role_list_does_not_push_into_the_next_column() -> None:
    table = CliRunner().invoke(cli, ["connectors", "list"], obj={}).output
    header, *lines = table.splitlines()
    assert header.split() == ["NAME", "STATE", "ROLES", "WHAT"]
    [instagram] = [line for line in lines if line.startswith("instagram ")]
    assert "media+profile+send+webhook" in instagram
    described = starts(header, lines, "WHAT")
    assert all(text and text[0].isupper() for text in described), table


def test_pull_of_a_channel_it_cannot_pull_names_the_ones_it_can(tmp_path: Path) -> None:
    env = {"SATUPINTU_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env, obj={}).exit_code == 0
    result = CliRunner().invoke(cli, ["pull", "nosuch", "--once"], env=env, obj={})
    assert result.exit_code == 2
    assert "'nosuch' is not an enabled channel with sources to pull" in result.output
    assert "no pull channel is enabled (installed: email, telegram;" in result.output
