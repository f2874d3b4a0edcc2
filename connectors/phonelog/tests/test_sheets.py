"""What officers' sheets look like besides the corpus: a workbook with bad rows (reported by
sheet, row and column), headers of the unit's own mapped in config, quoted multi-line cells."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from connectors.base import ImportRow, RejectedRow
from connectors.phonelog import PhonelogConnector
from tests.support import corpus


def workbook(path: Path) -> Path:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Januari"
    first.append(["LOG TELEPON ULT"])
    first.append([])
    first.append(["No", "Tgl", "Pukul", "Penelepon", "HP", "Uraian"])
    first.append([1, datetime(2027, 1, 4), "08.10", "Lina", 81211112222, "Kuota internet kampus habis."])
    first.append([2, "30/02/2027", "09.00", "Rudi", 81233334444, "Tanya jadwal ujian susulan."])
    second = book.create_sheet("Februari")
    second.append(["No", "Tgl", "Pukul", "Penelepon", "HP", "Uraian"])
    second.append([1, datetime(2027, 2, 1), "10.00", "Tia", "0812-ab", ""])
    book.save(path)
    return path


def test_a_workbooks_bad_rows_name_their_sheet_row_and_column(tmp_path: Path) -> None:
    rows = list(PhonelogConnector.from_section({}).read_import(workbook(tmp_path / "log.xlsx")))
    assert [(type(r).__name__, r.sheet, r.line) for r in rows] == [
        ("ImportRow", "Januari", 4),
        ("RejectedRow", "Januari", 5),
        ("RejectedRow", "Februari", 2),
    ]
    bad = [r for r in rows if isinstance(r, RejectedRow)]
    assert (bad[0].column, bad[0].reason) == ("Tgl", "tanggal tidak valid: 30/02/2027")
    assert (bad[1].column, bad[1].reason) == ("HP, Uraian", "nomor telepon tidak valid; isi laporan kosong")


def test_headers_of_the_units_own_are_mapped_in_config(tmp_path: Path) -> None:
    sheet = tmp_path / "log.csv"
    sheet.write_text("Kapan;Siapa;Nomor Penghubung;Cerita\n05/01/2027 13.30;Bayu;0813 1234 5678;Parkir penuh.\n")
    plain = list(PhonelogConnector.from_section({}).read_import(sheet))
    assert isinstance(plain[0], RejectedRow) and "no header row found" in plain[0].reason
    mapped = PhonelogConnector.from_section(
        {"columns": {"Kapan": "date", "Siapa": "name", "Nomor Penghubung": "phone", "Cerita": "text"}}
    )
    [row] = list(mapped.read_import(sheet))
    assert isinstance(row, ImportRow) and b'"name":"Bayu"' in row.message.payload
    assert row.message.received_at == datetime.fromisoformat("2027-01-05T05:30:00+00:00")


def test_a_record_after_multi_line_cells_keeps_its_physical_line() -> None:
    rows = list(PhonelogConnector.from_section({}).read_import(corpus("phone-log", "rekap-telepon-oktober.csv")))
    lines = [r.line for r in rows]
    assert lines[8:10] == [10, 13], "No 9 spans lines 10-12, so No 10 is on line 13"
    assert lines[-1] == 47, "No 40; line 48 is the TOTAL footer"


def test_the_import_report_names_a_workbooks_sheet_and_row(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from workers import cli

    env = {"SATUPINTU_DATA_DIR": str(tmp_path / "var"), "SATUPINTU_CONNECTORS__PHONELOG__ENABLED": "true"}
    result = CliRunner().invoke(cli, ["import", "phonelog", str(workbook(tmp_path / "log.xlsx"))], env=env, obj={})
    assert result.exit_code == 1
    assert "sheet Januari, row 5, column Tgl: tanggal tidak valid: 30/02/2027" in result.stdout
    assert "sheet Februari, row 2, column HP, Uraian: nomor telepon tidak valid; isi laporan kosong" in result.stdout
    assert "1 accepted, 0 already imported, 2 rejected" in result.stdout
