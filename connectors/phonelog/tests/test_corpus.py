"""Every file of ../shared/corpus/phone-log/ imports exactly as its README says, through
``satupintu import phonelog`` (the report, the exit code, the rows stored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from normalizer.rules import normalize_phone
from storage.db import create_db_engine
from tests.support import corpus
from workers import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SATUPINTU_DATA_DIR": str(tmp_path / "var"),
        "SATUPINTU_CONNECTORS__PHONELOG__ENABLED": "true",
        "SATUPINTU_LOG__LEVEL": "WARNING",
    }


def run_import(env: dict[str, str], name: str, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["import", "phonelog", str(corpus("phone-log", name)), *extra], env=env, obj={})


def report(result: Result) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def stored(env: dict[str, str]) -> list[dict[str, Any]]:
    engine = create_db_engine(f"sqlite:///{Path(env['SATUPINTU_DATA_DIR']) / 'satupintu.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT external_id, received_at, payload FROM raw_message ORDER BY id"))
            return [{"id": r.external_id, "at": r.received_at, **orjson.loads(r.payload)} for r in rows]
    finally:
        engine.dispose()


def test_the_october_export_gives_40_calls_and_importing_it_again_none(env: dict[str, str]) -> None:
    first = run_import(env, "rekap-telepon-oktober.csv", "--format", "json")
    assert first.exit_code == 0, first.output
    assert report(first)["totals"] == {"accepted": 40, "already_imported": 0, "rejected": 0}
    calls = stored(env)
    assert len(calls) == 40, "the blank record and the TOTAL footer are no calls"
    assert calls[0]["called_at"] == "2026-10-01T08:05:00+08:00"
    assert calls[-1]["called_at"] == "2026-10-30T19:20:00+08:00", "No 40, after hours"
    multi_line = [c["text"] for c in calls if "\n" in c["text"]]
    assert len(multi_line) == 3 and multi_line[0].startswith("Mahasiswi melaporkan pelecehan")
    assert [c["name"] for c in calls if normalize_phone(c["phone"]) == "+6281234567890"] == [
        "Rina Marlina",
        "Andi Saputra",
        "Budi Santoso",
        "Indah Permatasari",
    ], "one number, four callers: four calls"
    assert {c["name"] for c in calls if c["anonymous"]} == {
        "Anonim",
        "Dirahasiakan",
        "(tidak menyebut nama)",
        "Korban (dirahasiakan)",
    }
    again = run_import(env, "rekap-telepon-oktober.csv", "--format", "json")
    assert again.exit_code == 0
    assert report(again)["totals"] == {"accepted": 0, "already_imported": 40, "rejected": 0}
    assert len(stored(env)) == 40


def test_the_windows_1252_and_the_bom_export_are_the_same_12_calls(env: dict[str, str]) -> None:
    cp1252 = run_import(env, "log-telepon-id-ID.csv", "--format", "json")
    assert cp1252.exit_code == 0, cp1252.output
    assert report(cp1252)["totals"]["accepted"] == 12
    calls = stored(env)
    names = [c["name"] for c in calls]
    assert "José Manuel Da Costa" in names and "Müller Sitorus" in names and "Noël Tambunan" in names
    assert any("orang dalam’ kampus" in c["text"] for c in calls), "0x92 is a curly apostrophe"
    assert any("transkrip – per lembar" in c["text"] for c in calls), "0x96 is an en dash"
    assert [c["called_at"][:16] for c in calls[:3]] == ["2026-11-02T08:10", "2026-11-02T14:05", "2026-11-03T09:00"]
    assert calls[0]["duration"] == "4,5"
    bom = run_import(env, "log-telepon-bom.csv", "--format", "json")
    assert bom.exit_code == 0
    assert report(bom)["totals"] == {"accepted": 0, "already_imported": 12, "rejected": 0}
    assert len(stored(env)) == 12


def test_the_workbook_gives_55_calls_one_sheet_a_month_and_overlaps_the_csv_exports(env: dict[str, str]) -> None:
    assert run_import(env, "rekap-telepon-oktober.csv").exit_code == 0
    assert run_import(env, "log-telepon-bom.csv").exit_code == 0
    book = run_import(env, "rekap-telepon.xlsx", "--format", "json")
    assert book.exit_code == 0, book.output
    rows = report(book)["rows"]
    assert report(book)["totals"] == {"accepted": 3, "already_imported": 52, "rejected": 0}
    assert {r["sheet"] for r in rows} == {"Oktober", "November", "Desember"}
    assert rows[0]["line"] == 5, "the header is row 4, below the title rows"
    calls = stored(env)
    assert len(calls) == 55
    december = [c for c in calls if c["called_at"].startswith("2026-12")]
    assert [c["phone"] for c in december] == ["081255550000", None, "+6281322223333"]


def test_the_workbook_alone_restores_the_phones_excel_turned_into_numbers(env: dict[str, str]) -> None:
    assert run_import(env, "rekap-telepon.xlsx").exit_code == 0
    phones = {c["name"]: c["phone"] for c in stored(env)}
    assert phones["Rina Marlina"] == "081234567890"
    assert phones["Ahmad Fauzi"] == "+6285250117788"
    assert phones["Wahyuni"] == "05428530800"
    assert phones["Ratna Sari"] is None


def test_bad_rows_are_reported_by_line_with_every_reason_and_the_good_ones_kept(env: dict[str, str]) -> None:
    first = run_import(env, "bad-rows.csv", "--format", "json")
    assert first.exit_code == 1, "a rejected row makes the exit code non-zero"
    rows = report(first)["rows"]
    assert [(r["line"], r["outcome"]) for r in rows] == [
        (2, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
        (5, "rejected"),
        (6, "rejected"),
        (7, "accepted"),
        (8, "rejected"),
        (9, "accepted"),
        (10, "rejected"),
        (11, "accepted"),
    ]
    problems = {r["line"]: (r["column"], r["reason"]) for r in rows if r["outcome"] == "rejected"}
    assert problems == {
        3: ("Isi Laporan", "isi laporan kosong"),
        5: ("Tanggal", "tanggal tidak valid: 31/02/2026"),
        6: ("No. HP/Telepon", "nomor telepon tidak valid"),
        8: (None, "duplikat baris 2: tidak diimpor lagi"),
        10: ("No. HP/Telepon, Isi Laporan", "nomor telepon tidak valid; isi laporan kosong"),
    }
    assert len(stored(env)) == 5
    again = run_import(env, "bad-rows.csv")
    assert again.exit_code == 1
    assert "line 10, column No. HP/Telepon, Isi Laporan: nomor telepon tidak valid; isi laporan kosong" in again.stdout
    assert "0 accepted, 5 already imported, 5 rejected" in again.stdout
    assert len(stored(env)) == 5
