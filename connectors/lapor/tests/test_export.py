"""The dashboard's export as a workbook, and headers mapped in config over the preset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from openpyxl import Workbook

from connectors.base import ImportRow, RejectedRow
from connectors.lapor import LaporConnector


def test_a_workbook_export_with_a_title_row_and_the_privacy_column(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Daftar Laporan SP4N-LAPOR! - Institut Teknologi Kalimantan"])
    sheet.append(["ID Laporan", "Tanggal", "Judul", "Isi", "Status", "Instansi Tujuan", "Pelapor", "Privasi"])
    sheet.append(
        ["#4600001", "24/11/2026 10.20", "Pungli", "Ada pungutan di loket.", "Diproses", "ITK", "Joko", "Rahasia"]
    )
    sheet.append(["4600002", "24/11/2026 11.00", "Wifi", "Wifi mati.", "Diproses", "ITK", "Ani", "Publik"])
    sheet.append(["", "24/11/2026 11.00", "Kosong", "", "Diproses", "ITK", "Ani", "Publik"])
    book.save(tmp_path / "export.xlsx")
    rows = list(LaporConnector.from_section({}).read_import(tmp_path / "export.xlsx"))
    secret, public, bad = rows
    assert isinstance(secret, ImportRow) and isinstance(public, ImportRow) and isinstance(bad, RejectedRow)
    first = orjson.loads(secret.message.payload)
    assert first["tracking_id"] == "4600001" and first["confidential"] and first["name"] is None
    assert orjson.loads(public.message.payload)["name"] == "Ani"
    assert (bad.line, bad.column) == (5, "ID Laporan, Isi")
    parsed = LaporConnector.from_section({}).parse(1, secret.message)
    assert parsed.confidential and parsed.external_ref is not None and parsed.external_ref.id == "4600001"


def test_the_admins_mapping_applies_over_the_preset(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Kode;Waktu;Uraian Singkat;Tahap\nLPR-77;2026-11-25 09:00;Lampu jalan mati.;Baru\n")
    connector = LaporConnector.from_section(
        {"columns": {"Kode": "tracking_id", "Uraian Singkat": "text", "Tahap": "status"}}
    )
    [row] = list(connector.read_import(export))
    assert isinstance(row, ImportRow) and row.message.external_id.startswith("lapor:LPR-77:")
    assert orjson.loads(row.message.payload)["status"] == "Baru"


def test_a_row_dated_in_the_future_is_rejected_with_its_line(tmp_path: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d 09:00")
    export = tmp_path / "export.csv"
    export.write_text(
        "Tracking ID,Tanggal Laporan,Isi Laporan\n"
        "4700001,2026-11-25 09:00,Lampu jalan di depan gedung B mati.\n"
        f"4700002,{tomorrow},Laporan yang bertanggal besok.\n"
    )
    taken, future = list(LaporConnector.from_section({}).read_import(export))
    assert isinstance(taken, ImportRow)
    assert isinstance(future, RejectedRow) and future.line == 3 and future.column == "Tanggal Laporan"
    assert "belum terjadi" in future.reason
