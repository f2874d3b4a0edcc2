"""``satupintu triage classify`` and ``triage eval`` as an officer runs them: the fields and label
spellings, bad input refused with exit code 2, the figures on the gold file held at the targets
(a regression guard: a hidden set of the same kind is the proof), the city routing's figure, and
the triage stage storing on a case exactly what ``classify`` prints for its message."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from config.routing import KINDS, load_routing
from tests.support import corpus
from tests.triage.desk import Desk, Person, triage_stage
from workers import cli


def gold() -> Path:
    """The public gold file, read in place (the test skips, or fails under CI, without ../shared)."""
    return corpus("complaints", "ult-gold-public.csv")


def city_rows() -> Path:
    return corpus("complaints", "public.csv")


CITY = Path(__file__).resolve().parents[2] / "examples" / "city" / "routing.toml"
FIELDS = ["id", "kind", "unit", "unit_name", "confidential", "anonymous", "urgent", "complete", "missing", "reasons"]

# The targets on unseen messages; on the public gold file they guard against regressions.
TARGETS = {"kind": 0.95, "unit": 0.90, "complete": 0.90}
CONFIDENTIAL_PRECISION = 0.85
CITY_FLOOR = 0.75
"""The city routing on public.csv's labelled rows (0.785 now; 0.690 on the folds kept aside)."""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["triage", *args], obj={}, catch_exceptions=False)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def classified(path: Path, *options: str) -> list[dict[str, Any]]:
    result = run("classify", str(path), *options)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_classify_prints_one_result_per_row_with_the_gold_spellings(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [
            {"id": "a", "text": "kak syarat cicilan UKT apa aja ya?", "unit": "never read"},
            {"id": "b", "text": "halo min"},
            {"id": "c", "text": "dosen pembimbing sy suka ngelus2 punggung sy pas bimbingan, sy risih"},
        ],
    )
    results = classified(path)
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert all(list(r) == FIELDS for r in results)
    routing = load_routing()
    for result in results:
        assert result["kind"] in KINDS and result["unit"] in routing.unit_keys
        assert result["unit_name"] == routing.unit(result["unit"]).name
    ukt, greeting, touching = results
    assert (ukt["kind"], ukt["unit"], ukt["complete"]) == ("permintaan_informasi", "keuangan", True)
    assert (greeting["kind"], greeting["unit"], greeting["complete"]) == ("permintaan_informasi", "frontdesk", False)
    assert greeting["missing"] == ["what"] and greeting["reasons"] == []
    assert (touching["unit"], touching["confidential"]) == ("ppkpt", True)
    assert any(reason.startswith("ppkpt.sentuhan: ") for reason in touching["reasons"])


def test_classify_as_a_table_for_people(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [{"id": "1", "text": "min AC rusak"}, {"id": "2", "text": "ULT-26-00042-8"}])
    result = run("classify", str(path), "--format", "table")
    assert result.exit_code == 0
    header, first, second = result.output.splitlines()
    assert header.split()[:3] == ["ID", "KIND", "UNIT"]
    assert "sarpras" in first and "no (missing place, what)" in first
    assert "nomor_tiket: ULT-26-00042-8" in second


def test_a_channel_column_decides_what_its_form_already_asked(tmp_path: Path) -> None:
    rows = [{"id": c, "text": "AC rusak", "channel": c} for c in ("whatsapp", "webform")]
    chat, form = classified(write_csv(tmp_path / "in.csv", rows))
    assert chat["missing"] == ["place", "what"] and form["missing"] == ["place", "what"]
    nameless = classified(write_csv(tmp_path / "n.csv", [{"id": "x", "text": "AC rusak", "name": ""}]))
    assert nameless[0]["missing"] == ["identity", "place", "what"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"id,message\n1,halo\n", "no 'text' column"),
        (b"", "empty file"),
        (b"id,text\n1,caf\xe9\n", "not UTF-8 (byte 0xe9 at offset 13)"),
        (b"\x00\x01\x02binary", "not a CSV file"),
        (b'id,text\n1,"never closed\n', "not a valid CSV file"),
        ("text\n1\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    for command in ("classify", "eval"):
        result = CliRunner().invoke(cli, ["triage", command, str(path)], obj={})
        assert result.exit_code == 2, result.output
        assert problem in result.stderr and "Traceback" not in result.stderr


def test_a_missing_file_and_a_missing_label_column_are_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["triage", "classify", str(tmp_path / "nope.csv")], obj={})
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    path = write_csv(tmp_path / "in.csv", [{"id": "1", "text": "halo"}])
    unlabelled = runner.invoke(cli, ["triage", "eval", str(path), "--label-column", "instansi"], obj={})
    assert unlabelled.exit_code == 2 and "no 'instansi' column" in unlabelled.stderr


def test_the_tracking_number_only_row(tmp_path: Path) -> None:
    [row] = classified(write_csv(tmp_path / "in.csv", [{"id": "t", "text": "ULT-26-00042-8"}]))
    assert (row["kind"], row["unit"], row["complete"], row["missing"]) == (
        "permintaan_informasi",
        "frontdesk",
        True,
        [],
    )


def gold_figures(*options: str) -> dict[str, Any]:
    result = run("eval", str(gold()), "--format", "json", *options)
    assert result.exit_code == 0, result.output
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def test_gold_figures_hold_the_targets() -> None:
    found = gold_figures()
    figures = found["figures"]
    print("\n", json.dumps(figures, indent=1))  # shown with -s
    assert figures["rows"] == 200 and found["skipped_without_label"] == 0
    for label, target in TARGETS.items():
        assert figures["accuracy"][label] >= target, (label, figures["accuracy"])
    assert figures["confidential"]["recall"] == 1.0, "every confidential report must be kept confidential"
    assert figures["confidential"]["precision"] >= CONFIDENTIAL_PRECISION
    assert set(found["confusion"]) == set(load_routing().unit_keys)
    assert all({"id", "text", "wrong", "reasons"} <= set(miss) for miss in found["wrong"])


def test_held_out_folds_are_reported_apart_and_their_mistakes_not_listed() -> None:
    found = gold_figures("--folds", "5", "--held-out", "4,5")
    development, held_out = found["figures"], found["held_out"]
    assert development["rows"] + held_out["rows"] == 200
    assert set(found["folds"]) == {"1", "2", "3", "4", "5"}
    assert held_out["confidential"]["recall"] == 1.0
    assert held_out["accuracy"]["unit"] >= TARGETS["unit"]
    listed = {miss["id"] for miss in found["wrong"]}
    assert len(listed) + found["held_out_wrong_not_shown"] == len(gold_figures()["wrong"])


def test_held_out_needs_folds() -> None:
    result = CliRunner().invoke(cli, ["triage", "eval", str(gold()), "--held-out", "2"], obj={})
    assert result.exit_code == 2 and "--held-out" in result.stderr


def test_the_table_report_shows_figures_confusion_and_mistakes() -> None:
    result = run("eval", str(gold()))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "ult-gold-public.csv: 200 rows compared"
    assert "confidential precision" in lines[1] and "recall 1.000" in lines[1]
    assert any(line.strip().startswith("ppkpt") for line in lines)
    assert "  wrong:" in lines and any(line.strip().startswith("reasons: ") for line in lines)


def test_the_city_routing_routes_the_city_rows() -> None:
    result = run("eval", str(city_rows()), "--routing", str(CITY), "--label-column", "instansi", "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["skipped_without_label"] == 100, "the railway rows have no agency"
    assert found["figures"]["rows"] == 200 and not found["unknown_labels"], "every agency has a unit"
    assert found["figures"]["accuracy"]["unit"] >= CITY_FLOOR


def test_a_unit_label_may_be_the_key_the_name_or_an_alias(tmp_path: Path) -> None:
    rows = [
        {"id": "1", "text": "sampah menumpuk di TPS jalan Kenari", "instansi": "Dinas Lingkungan Hidup"},
        {"id": "2", "text": "sampah menumpuk di TPS jalan Kenari", "instansi": "lingkungan_hidup"},
        {"id": "3", "text": "sampah menumpuk di TPS jalan Kenari", "instansi": "dlh"},
        {"id": "4", "text": "surat pengantar dari kelurahan belum jadi", "instansi": "Kelurahan Dukuh Setro"},
        {"id": "5", "text": "halo", "instansi": ""},
    ]
    path = write_csv(tmp_path / "city.csv", rows)
    result = run("eval", str(path), "--routing", str(CITY), "--label-column", "instansi", "--format", "json")
    found = json.loads(result.stdout)
    assert found["figures"]["accuracy"]["unit"] == 1.0 and found["skipped_without_label"] == 1


# -- the stage stores what classify prints ---------------------------------------------------------


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine), tmp_path / "var")


def test_the_stage_stores_on_each_case_what_classify_prints(desk: Desk, tmp_path: Path) -> None:
    with gold().open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][:40]
    rows = [{"id": str(n), "text": text, "channel": "whatsapp", "name": f"Pelapor {n}"} for n, text in enumerate(texts)]
    printed = {row["id"]: row for row in classified(write_csv(tmp_path / "gold.csv", rows))}
    for n, text in enumerate(texts):
        person = Person(f"Pelapor {n}", phone=f"+62812000{n:05d}")
        message = desk.send(person, text, channel="whatsapp")
        case_id = desk.case_of(message)
        if case_id is None:  # a greeting is kept without a case
            continue
        [case] = [c for c in desk.cases() if c["id"] == case_id]
        want = printed[str(n)]
        missing = json.loads(case["missing"]) if isinstance(case["missing"], str) else case["missing"]
        stored = {
            "kind": case["kind"],
            "unit": case["unit"],
            "confidential": bool(case["confidential"]),
            "anonymous": bool(case["anonymous"]),
            "complete": bool(case["complete"]),
            "missing": list(missing),
            "rules": case["routing_rules"],
        }
        shown = {k: want[k] for k in ("kind", "unit", "confidential", "anonymous", "complete", "missing")}
        shown["rules"] = ", ".join(r.split(": ", 1)[0] for r in want["reasons"] if not r.startswith("negasi: "))
        assert stored == shown, text
