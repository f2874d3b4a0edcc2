"""Reading the sheets officers keep: CSV however Excel saved it, or a workbook, header anywhere.

Used by every off-line channel's import (phone log, walk-in book, letter agenda, LAPOR! export):

* CSV in UTF-8 with or without a BOM, or Windows-1252 (what Excel in an Indonesian locale
  writes); any of ``, ; TAB |`` as the delimiter, found by which one yields a known header;
  quoted multi-line cells (a record's line is the physical line it starts on, the header counted);
* XLSX (openpyxl), every sheet (one per month), typed cells kept as Excel holds them (dates as
  datetimes, a phone typed without a quote as a number);
* the header is the first row, within the first rows (below title rows), whose cells name
  enough known columns; headers are matched loosely (case, punctuation and spacing ignored).

Blank rows are skipped; what a row means is the connector's business.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from connectors.base import RejectedRow

Value = str | int | float | datetime | date | time | None

HEADER_SEARCH_ROWS = 30
"""How far down a sheet the header may be (title rows, a month line, empty rows above it)."""
DELIMITERS = (",", ";", "\t", "|")
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})

_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: str) -> str:
    """``"No. HP/Telepon"`` → ``"no hp telepon"``: how headers and synonyms are compared."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NON_WORD.sub(" ", folded).strip()


def column_map(synonyms: Mapping[str, Collection[str]], configured: Mapping[str, str]) -> dict[str, str]:
    """Header key → field: the built-in synonyms of each field, then the admin's own mapping
    (``[connectors.<name>.columns]``, header as in the file → field), which wins."""
    found = {header_key(name): fieldname for fieldname, names in synonyms.items() for name in (fieldname, *names)}
    found.update({header_key(header): fieldname for header, fieldname in configured.items()})
    return found


@dataclass(frozen=True, slots=True)
class Record:
    """One data row: its physical place, the mapped cells, and the header each came from."""

    line: int
    sheet: str | None
    cells: dict[str, Value]
    headers: dict[str, str]
    """Field → the header as written in the file, to name the column of a problem."""
    other: dict[str, Value] = field(default_factory=dict)
    """Cells under headers no field claims, kept as they are."""

    def text(self, name: str) -> str:
        """A cell as trimmed text ("" when empty); numbers without a spurious ``.0``."""
        value = self.cells.get(name)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    def column(self, *names: str) -> str:
        return ", ".join(self.headers.get(n, n) for n in names)

    def rejected(self, problems: Sequence[tuple[str, str]]) -> RejectedRow:
        """The row refused: every ``(field, reason)`` of it at once, naming the columns."""
        return RejectedRow(
            self.line,
            "; ".join(reason for _, reason in problems),
            column=self.column(*(name for name, _ in problems)),
            sheet=self.sheet,
        )


def read_records(
    path: Path, columns: Mapping[str, str], *, required: Collection[str], min_columns: int = 3
) -> Iterator[Record | RejectedRow]:
    """Every data row of every sheet of ``path``; a sheet without a recognisable header is one
    rejection at line 1 naming what was looked for."""
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        yield from _workbook(path, columns, required, min_columns)
    else:
        yield from _csv(path, columns, required, min_columns)


@dataclass(frozen=True, slots=True)
class _Header:
    row: int
    fields: dict[int, str]
    """Column index → field."""
    names: dict[int, str]
    """Column index → the header text as written."""


def _find_header(
    rows: list[tuple[int, list[Value]]], columns: Mapping[str, str], required: Collection[str], min_columns: int
) -> _Header | None:
    for number, cells in rows:
        fields: dict[int, str] = {}
        names: dict[int, str] = {}
        for index, cell in enumerate(cells):
            if not isinstance(cell, str) or not cell.strip():
                continue
            found = columns.get(header_key(cell))
            if found is not None and found not in fields.values():
                fields[index] = found
            names[index] = cell.strip().lstrip("\ufeff")
        if len(fields) >= min_columns and set(required) <= set(fields.values()):
            return _Header(number, fields, names)
    return None


def _records(
    header: _Header, rows: Iterator[tuple[int, list[Value]]], sheet: str | None
) -> Iterator[Record | RejectedRow]:
    headers = {name: header.names[i] for i, name in header.fields.items()}
    for number, cells in rows:
        if all(_blank(c) for c in cells):
            continue
        mapped = {name: cells[i] if i < len(cells) else None for i, name in header.fields.items()}
        other = {text: cells[i] for i, text in header.names.items() if i not in header.fields and i < len(cells)}
        yield Record(number, sheet, {k: _clean(v) for k, v in mapped.items()}, headers, other)


def _missing_header(required: Collection[str], sheet: str | None) -> RejectedRow:
    wanted = ", ".join(sorted(required))
    return RejectedRow(
        1,
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows (columns needed: {wanted}; "
        "map other headers in [connectors.<name>.columns])",
        sheet=sheet,
    )


def _blank(value: Value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean(value: Value) -> Value:
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


# --- CSV ---------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped), else Windows-1252, which is what Excel writes in an Indonesian
    locale (Latin-1 would turn its curly quotes and dashes into control characters)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[Value]]]:
    """Records with the physical line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for record in reader:
        yield start, list(record)
        start = reader.line_num + 1


def _csv(
    path: Path, columns: Mapping[str, str], required: Collection[str], min_columns: int
) -> Iterator[Record | RejectedRow]:
    text = decode(path.read_bytes())
    best: tuple[int, str, _Header] | None = None
    for delimiter in DELIMITERS:
        head = _first(_csv_rows(text, delimiter), HEADER_SEARCH_ROWS)
        header = _find_header(head, columns, required, min_columns)
        if header is not None and (best is None or len(header.fields) > best[0]):
            best = (len(header.fields), delimiter, header)
    if best is None:
        yield _missing_header(required, None)
        return
    _, delimiter, header = best
    rows = (row for row in _csv_rows(text, delimiter) if row[0] > header.row)
    yield from _records(header, rows, None)


def _first(rows: Iterator[tuple[int, list[Value]]], count: int) -> list[tuple[int, list[Value]]]:
    taken = []
    try:
        for row in rows:
            taken.append(row)
            if len(taken) >= count:
                break
    except csv.Error:  # a delimiter that does not fit the file can make the reader choke
        pass
    return taken


# --- workbooks ---------------------------------------------------------------------------------


def _workbook(
    path: Path, columns: Mapping[str, str], required: Collection[str], min_columns: int
) -> Iterator[Record | RejectedRow]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            rows = ((number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1))
            head = _first(rows, HEADER_SEARCH_ROWS)  # type: ignore[arg-type]
            header = _find_header(head, columns, required, min_columns)
            if header is None:
                if any(not all(_blank(c) for c in cells) for _, cells in head):
                    yield _missing_header(required, sheet.title)
                continue
            rest = ((number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1))
            yield from _records(header, (r for r in rest if r[0] > header.row), sheet.title)  # type: ignore[misc]
    finally:
        book.close()
