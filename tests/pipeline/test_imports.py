"""Imports with a report: every row accepted, already imported or rejected with where and why; a
bad row never stops the others; exit codes say which; files over the limits are refused whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from storage.db import create_db_engine
from tests.pipeline.framework_connectors import installed
from tests.support import eventually, make_settings, running_pipeline
from workers import cli

HEADER = "id,phone,text\n"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    with installed(tmp_path / "site") as path:
        yield path


@pytest.fixture
def env(site: str, tmp_path: Path) -> dict[str, str]:
    return {
        "SATUPINTU_DATA_DIR": str(tmp_path / "var"),
        "SATUPINTU_CONNECTORS__SHEET_IMPORT__ENABLED": "true",
        "SATUPINTU_LOG__LEVEL": "WARNING",
    }


def sheet(tmp_path: Path, *rows: str, name: str = "panggilan.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def run_import(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["import", *args], env=env, obj={})


def raw_ids(env: dict[str, str]) -> list[str]:
    database = Path(env["SATUPINTU_DATA_DIR"]) / "satupintu.db"
    if "SATUPINTU_DATABASE_URL" not in env and not database.exists():
        return []
    engine = create_db_engine(env.get("SATUPINTU_DATABASE_URL", f"sqlite:///{database}"))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT external_id FROM raw_message ORDER BY id")).scalars())
    finally:
        engine.dispose()


def report_of(result: Result) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_every_row_is_reported_and_a_rejection_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    source = sheet(
        tmp_path,
        "1,0812-1111-2222,Menanyakan jadwal wisuda",
        "2,0813 3333 4444,",
        "3,0813 3333 4444,AC kelas rusak",
        "1,0812-1111-2222,Menanyakan jadwal wisuda",
    )
    first = run_import(env, "sheet_import", str(source), "--format", "json")
    assert first.exit_code == 1, first.output
    report = report_of(first)
    assert report["totals"] == {"accepted": 2, "already_imported": 1, "rejected": 1}
    assert [(r["line"], r["outcome"]) for r in report["rows"]] == [
        (2, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
        (5, "already_imported"),
    ]
    rejected = report["rows"][1]
    assert (rejected["column"], rejected["reason"]) == ("text", "the complaint text is empty")
    assert raw_ids(env) == ["call:1", "call:3"]

    again = run_import(env, "sheet_import", str(source))
    assert again.exit_code == 1
    assert "line 3, column text: the complaint text is empty" in again.stdout
    assert "0 accepted, 3 already imported, 1 rejected" in again.stdout
    assert raw_ids(env) == ["call:1", "call:3"], "importing again adds nothing"


async def test_a_clean_import_exits_0_and_the_running_pipeline_takes_the_rows(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = sheet(tmp_path, "1,0812-1111-2222,Menanyakan jadwal wisuda", "2,0813 3333 4444,AC kelas rusak")
    result = run_import(env, "sheet_import", str(source))
    assert result.exit_code == 0, result.output
    assert "2 accepted, 0 already imported, 0 rejected" in result.stdout
    assert "a running satupintu picks them up" in result.stdout

    settings = make_settings(Path(env["SATUPINTU_DATA_DIR"]), connectors={"sheet_import": {"enabled": True}})
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases WHERE channel = 'sheet_import'") == 2)


def test_a_reader_that_breaks_mid_file_keeps_the_rows_before(env: dict[str, str], tmp_path: Path) -> None:
    source = sheet(tmp_path, "1,0812-1111-2222,Jadwal wisuda", "2,0813 3333 4444,AC rusak", "BROKEN,,", "4,0,lost")
    result = run_import(env, "sheet_import", str(source), "--format", "json")
    assert result.exit_code == 1
    rows = report_of(result)["rows"]
    assert rows[-1] == {
        "line": 4,
        "outcome": "rejected",
        "sheet": None,
        "column": None,
        "reason": "the file cannot be read from here on: unexpected end of data",
        "raw_message_id": None,
    }
    assert raw_ids(env) == ["call:1", "call:2"]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(env: dict[str, str], tmp_path: Path) -> None:
    source = sheet(tmp_path, *(f"{n},0812-1111-2222,Keluhan nomor {n}" for n in range(10)))
    result = run_import({**env, "SATUPINTU_IMPORTS__MAX_BYTES": "100"}, "sheet_import", str(source))
    assert result.exit_code == 2
    assert f"{source.stat().st_size} bytes is more than imports.max_bytes (100)" in result.stderr
    assert raw_ids(env) == []


def test_a_file_with_too_many_rows_is_refused_whole(env: dict[str, str], tmp_path: Path) -> None:
    source = sheet(tmp_path, *(f"{n},0812-1111-2222,Keluhan nomor {n}" for n in range(3)))
    result = run_import({**env, "SATUPINTU_IMPORTS__MAX_ROWS": "2"}, "sheet_import", str(source))
    assert result.exit_code == 2
    assert "more than imports.max_rows (2) rows" in result.stderr
    assert raw_ids(env) == [], "nothing of a refused file is stored"


def test_unusable_input_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    source = sheet(tmp_path, "1,0812-1111-2222,Jadwal wisuda")
    missing = run_import(env, "sheet_import", str(tmp_path / "nothing.csv"))
    assert missing.exit_code == 2
    assert "nothing.csv: no such file" in missing.stderr
    wrong = run_import(env, "webform", str(source))
    assert wrong.exit_code == 2
    assert "'webform' is not an enabled importing connector" in wrong.stderr


def test_a_row_the_database_refuses_is_rejected_alone(env: dict[str, str], tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL cannot hold a NUL character in text: that row is rejected, its batch is not."""
    source = sheet(tmp_path, "1,0812-1111-2222,Jadwal wisuda", "2\x00,0813 3333 4444,AC rusak", "3,0,Parkir")
    env = {**env, "SATUPINTU_DATABASE_URL": postgres_url}
    result = run_import(env, "sheet_import", str(source), "--format", "json")
    assert result.exit_code == 1, result.output
    outcomes = [(r["line"], r["outcome"], r["reason"]) for r in report_of(result)["rows"]]
    assert outcomes == [
        (2, "accepted", None),
        (3, "rejected", "the database refused the record"),
        (4, "accepted", None),
    ]
    assert raw_ids(env) == ["call:1", "call:3"]
