"""The issue's targets on the labelled batches written for this project after the rules
(``tests/triage/fixtures/``, README there): a regression guard now that the rules were
generalised from their mistakes. Each batch's figure before its mistakes were read (the
held-out figure) is in docs/triage.md; these are the figures after, which must not fall.

Confidential recall 1.0 with precision >= 0.85 is asserted on every batch (a missed disclosure
exposes a victim); kind, unit and complete over the university batches together (one batch of
60 rows moves 1.7 points a row); the city routing on each city batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.routing import RoutingConfig, load_routing
from triage.assessment import Assessor
from triage.evaluation import Evaluation, Scores, evaluate, read_rows

FIXTURES = Path(__file__).with_name("fixtures")
CITY = Path(__file__).resolve().parents[2] / "examples" / "city" / "routing.toml"
FIRST_UNIVERSITY_BATCHES = ("domain-uni-b1.csv", "domain-uni-b2.csv", "domain-uni-b3.csv")
UNIVERSITY_BATCHES = (
    *FIRST_UNIVERSITY_BATCHES,
    *(f"domain-uni-b{n}.csv" for n in range(4, 57)),
)
CITY_BATCHES = tuple(f"domain-city-b{n}.csv" for n in range(1, 29))
PROBES = ("probe-p0.csv", "probe-p2.csv", "probe-p3.csv", "probe-hard-negatives.csv")
HARD_NEGATIVES = ("probe-hard-negatives.csv", "probe-hard-negatives-2.csv", "probe-hard-negatives-3.csv")
TARGETS = {"kind": 0.95, "unit": 0.90, "complete": 0.90}
CONFIDENTIAL_PRECISION = 0.85
CITY_TARGET = 0.75
CITY_FITTED_FLOOR = 0.90
"""The city batches score 0.98, 0.96, 0.967, 0.96, 0.98, 0.94, 0.96, 0.96, 0.96, 0.94, 0.90, 0.98,
1.00, 0.96, 0.96, 0.94, 0.98, 0.94, 0.94, 1.00, 1.00, 0.98, 1.00, 1.00, 0.98, 1.00, 0.96 and 1.00 now
(held out 0.88, 0.80, 0.833 for b1-b3, 0.90-0.94 for b4-b10, 0.76, 0.90, 0.78, 0.86, 0.88, 0.84, 0.88,
0.90, 0.88, 0.90, 0.90, 0.94, 0.92, 0.84, 0.92, 0.98, 0.86 and 0.92 for b11-b28; docs/triage.md)."""


def _assessor(routing: RoutingConfig) -> Assessor:
    return Assessor(routing, ["darurat.risiko_bunuh_diri"])


@pytest.fixture(scope="module")
def university() -> tuple[RoutingConfig, Assessor]:
    routing = load_routing()
    return routing, _assessor(routing)


def _evaluate(setup: tuple[RoutingConfig, Assessor], name: str, label_column: str = "unit") -> Evaluation:
    routing, assessor = setup
    return evaluate(assessor, routing, read_rows(FIXTURES / name), label_column=label_column)


def _misses(found: Evaluation) -> list[Any]:
    return [(miss["id"], miss["wrong"]) for miss in found.wrong]


@pytest.mark.parametrize("name", UNIVERSITY_BATCHES + PROBES)
def test_every_confidential_report_of_a_batch_is_kept_confidential(
    university: tuple[RoutingConfig, Assessor], name: str
) -> None:
    found = _evaluate(university, name)
    figures = found.scores.confidential_figures()
    assert figures["recall"] == 1.0, _misses(found)
    assert figures["precision"] is not None and figures["precision"] >= CONFIDENTIAL_PRECISION, _misses(found)


def _pooled(university: tuple[RoutingConfig, Assessor], names: tuple[str, ...]) -> Scores:
    pooled = Scores()
    for name in names:
        batch = _evaluate(university, name).scores
        pooled.rows += batch.rows
        pooled.correct.update(batch.correct)
        pooled.counted.update(batch.counted)
    return pooled


@pytest.mark.parametrize(
    ("names", "rows"), [(FIRST_UNIVERSITY_BATCHES, 180), (UNIVERSITY_BATCHES, 60 * len(UNIVERSITY_BATCHES))]
)
def test_the_university_batches_hold_the_kind_unit_and_complete_targets(
    university: tuple[RoutingConfig, Assessor], names: tuple[str, ...], rows: int
) -> None:
    pooled = _pooled(university, names)
    assert pooled.rows == rows
    accuracy = pooled.accuracy()
    for label, target in TARGETS.items():
        assert accuracy[label] >= target, (label, accuracy)


@pytest.mark.parametrize("name", HARD_NEGATIVES)
def test_hard_negatives_stay_ordinary_cases(university: tuple[RoutingConfig, Assessor], name: str) -> None:
    """Official fees (also with a condition: "harus lunas dulu supaya bisa isi KRS"), touching
    objects, rude staff, a lecturer's late message about a thesis, "tidak mau tahu", a guard alone
    at night, a misspelt name, a dress code, a lab locked by a guard, students pooling their own
    money, a winning vendor praised: none of them is a disclosure."""
    found = _evaluate(university, name)
    assert found.scores.confidential["fp"] == 0, _misses(found)


@pytest.mark.parametrize("name", CITY_BATCHES)
def test_the_city_routing_routes_each_city_batch(name: str) -> None:
    routing = load_routing(CITY)
    found = _evaluate((routing, _assessor(routing)), name, label_column="instansi")
    assert found.skipped == 0 and not found.unknown, "every agency of the batch has a unit"
    assert found.scores.accuracy()["unit"] >= max(CITY_TARGET, CITY_FITTED_FLOOR), _misses(found)
