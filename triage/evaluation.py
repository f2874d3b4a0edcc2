"""``satupintu triage classify|eval``: messages from a CSV file through the stage's own decision
(:class:`triage.assessment.Assessor`), and the figures against the file's labels.

A CSV file has the columns ``id`` and ``text``, optionally ``channel`` (which decides what a
channel's own form already asked, ``config/completeness.toml``) and ``name`` (the reporter's
name; without the column the sender counts as known, as on a chat channel). Other columns are
never read by ``classify``; ``eval`` reads the labels ``kind``, ``confidential``, ``complete`` and
the unit column it is told (``--label-column``).

Held-out figures: rows fall into ``folds`` by a stable hash of their id, so that rules can be
written looking only at some folds' mistakes and judged on the others (``held_out``).
"""

from __future__ import annotations

import csv
import io
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.routing import RoutingConfig
from envelopes import NormalizedMessage, Reporter
from triage.assessment import Assessment, Assessor

DEFAULT_CHANNEL = "csv"
LABELS = ("kind", "unit", "confidential", "complete")
_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_KNOWN_SENDER = "(pengirim diketahui kanal)"


class InputError(ValueError):
    """The file cannot be read as the CSV the commands take; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    text: str
    channel: str
    name: str | None
    cells: dict[str, str]
    """Every cell of the row, for ``eval``'s labels."""


def read_rows(path: Path) -> list[Row]:
    """The rows of a UTF-8 CSV file with a header naming ``text``; :class:`InputError` otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputError(f"{path}: not a CSV file (it holds NUL bytes: a binary file or UTF-16?)")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = [name.strip() for name in reader.fieldnames or ()]
        if not header:
            raise InputError(f"{path}: empty file: a CSV file needs a header line with a 'text' column")
        if "text" not in header:
            shown = ", ".join(repr(name) for name in header[:8])
            raise InputError(f"{path}: no 'text' column in the header line (it has {shown})")
        reader.fieldnames = header
        return [_row(cells, number) for number, cells in enumerate(reader, 1)]
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file, line {reader.line_num}: {exc}") from None


def _row(cells: dict[str | Any, Any], number: int) -> Row:
    values = {str(k): (v if isinstance(v, str) else "") for k, v in cells.items() if k is not None}
    name = values.get("name", "").strip() if "name" in values else _KNOWN_SENDER
    return Row(
        id=values.get("id", "").strip() or f"row-{number}",
        text=values.get("text", ""),
        channel=values.get("channel", "").strip() or DEFAULT_CHANNEL,
        name=name or None,
        cells=values,
    )


def message_of(row: Row, number: int = 0) -> NormalizedMessage:
    """The row as the stage would see it arrive on its channel."""
    return NormalizedMessage(
        channel=row.channel,
        channel_message_id=row.id,
        raw_message_id=number,
        conversation_key=f"{row.channel}:{row.id}",
        reporter=Reporter(name=row.name),
        text=row.text,
        received_at=_NOW,
    )


def result(row: Row, found: Assessment, routing: RoutingConfig) -> dict[str, Any]:
    """One line of ``triage classify``."""
    return {
        "id": row.id,
        "kind": found.kind,
        "unit": found.unit,
        "unit_name": routing.unit(found.unit).name,
        "confidential": found.confidential,
        "anonymous": found.anonymous,
        "urgent": found.urgent,
        "complete": found.complete,
        "missing": list(found.missing),
        "reasons": list(found.reasons),
    }


def classify_rows(assessor: Assessor, routing: RoutingConfig, rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [result(row, assessor.assess(message_of(row, n)), routing) for n, row in enumerate(rows, 1)]


def fold_of(row_id: str, folds: int) -> int:
    """The fold (1..folds) a row belongs to, stable across runs and machines."""
    return zlib.crc32(row_id.encode("utf-8")) % folds + 1


# -- eval ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Scores:
    """Figures over one set of rows."""

    rows: int = 0
    correct: Counter[str] = field(default_factory=Counter)
    counted: Counter[str] = field(default_factory=Counter)
    confidential: Counter[str] = field(default_factory=Counter)
    """``tp``, ``fp``, ``fn``, ``tn`` of confidential."""

    def add(self, gold: dict[str, str], predicted: dict[str, str]) -> None:
        self.rows += 1
        for label, value in gold.items():
            self.counted[label] += 1
            self.correct[label] += predicted[label] == value
        if "confidential" in gold:
            truth, said = gold["confidential"] == "true", predicted["confidential"] == "true"
            self.confidential[("t" if truth == said else "f") + ("p" if said else "n")] += 1

    def accuracy(self) -> dict[str, float]:
        return {label: self.correct[label] / self.counted[label] for label in LABELS if self.counted[label]}

    def confidential_figures(self) -> dict[str, float | None]:
        tp, fp, fn = self.confidential["tp"], self.confidential["fp"], self.confidential["fn"]
        return {
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accuracy": {k: round(v, 4) for k, v in self.accuracy().items()},
            "correct": dict(self.correct),
            "confidential": {k: None if v is None else round(v, 4) for k, v in self.confidential_figures().items()},
        }


@dataclass(slots=True)
class Evaluation:
    """``triage eval``: the figures, the confusion per unit, and the rows it got wrong."""

    label_column: str
    scores: Scores = field(default_factory=Scores)
    held_out: Scores | None = None
    folds: dict[int, Scores] = field(default_factory=dict)
    skipped: int = 0
    """Rows without a unit label: not counted."""
    unknown: Counter[str] = field(default_factory=Counter)
    """Unit labels the routing file has no unit for (counted wrong)."""
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    wrong: list[dict[str, Any]] = field(default_factory=list)
    hidden_wrong: int = 0
    """Mistakes on held-out rows, counted but not shown (so that rules are not written to them)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label_column": self.label_column,
            "figures": self.scores.as_dict(),
            "held_out": self.held_out.as_dict() if self.held_out else None,
            "folds": {str(k): v.as_dict() for k, v in sorted(self.folds.items())},
            "skipped_without_label": self.skipped,
            "unknown_labels": dict(self.unknown),
            "confusion": {gold: dict(found) for gold, found in sorted(self.confusion.items())},
            "wrong": self.wrong,
            "held_out_wrong_not_shown": self.hidden_wrong,
        }


def evaluate(
    assessor: Assessor,
    routing: RoutingConfig,
    rows: Sequence[Row],
    *,
    label_column: str = "unit",
    folds: int = 0,
    held_out: frozenset[int] = frozenset(),
) -> Evaluation:
    """Compare with the labels the file has: ``kind``, ``confidential``, ``complete`` and the
    unit in ``label_column``. With ``held_out`` folds (of ``folds``), ``scores`` are the other
    rows' figures and ``held_out`` theirs."""
    if rows and label_column not in rows[0].cells:
        raise InputError(f"no {label_column!r} column to take the unit labels from (--label-column)")
    found = Evaluation(label_column, held_out=Scores() if held_out else None)
    for number, row in enumerate(rows, 1):
        raw_unit = row.cells.get(label_column, "").strip()
        if not raw_unit:
            found.skipped += 1
            continue
        unit = routing.unit_for_label(raw_unit)
        if unit is None:
            found.unknown[raw_unit] += 1
        gold = {"unit": unit or f"? {raw_unit}"}
        for label in ("kind", "confidential", "complete"):
            value = row.cells.get(label, "").strip().casefold()
            if value:
                gold[label] = value
        out = result(row, assessor.assess(message_of(row, number)), routing)
        predicted = {k: str(out[k]).lower() if isinstance(out[k], bool) else str(out[k]) for k in LABELS}
        fold = fold_of(row.id, folds) if folds else 0
        hidden = fold in held_out
        (found.held_out if hidden and found.held_out else found.scores).add(gold, predicted)
        if folds:
            found.folds.setdefault(fold, Scores()).add(gold, predicted)
        found.confusion.setdefault(gold["unit"], Counter())[predicted["unit"]] += 1
        misses = {k: {"label": v, "found": predicted[k]} for k, v in gold.items() if predicted[k] != v}
        if not misses:
            continue
        if hidden:
            found.hidden_wrong += 1
        else:
            found.wrong.append({"id": row.id, "text": row.text, "wrong": misses, "reasons": out["reasons"]})
    return found
