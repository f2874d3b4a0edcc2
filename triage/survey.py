"""The satisfaction survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017).

Nine elements (*unsur*), each scored 1-4. Per element the mean score of those who answered it
(NRR); the index (IKM) is the weighted mean of the element means, each weighing 1/9 (over the
elements answered at all in the period); converted = IKM x 25; the grade (*mutu*) from the
converted value: A 88.31-100, B 76.61-88.30, C 65.00-76.60, D 25.00-64.99.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, and_, func, select, update

from storage.sql import insert_ignore
from storage.tables import SURVEY_ANSWERS, SURVEYS

ELEMENTS: tuple[tuple[str, str], ...] = (
    ("Persyaratan", "Requirements"),
    ("Sistem, Mekanisme, dan Prosedur", "System, mechanism and procedure"),
    ("Waktu Penyelesaian", "Time to resolve"),
    ("Biaya/Tarif", "Cost"),
    ("Produk Spesifikasi Jenis Pelayanan", "What was delivered"),
    ("Kompetensi Pelaksana", "Staff competence"),
    ("Perilaku Pelaksana", "Staff behaviour"),
    ("Penanganan Pengaduan, Saran dan Masukan", "Handling of complaints and feedback"),
    ("Sarana dan Prasarana", "Facilities"),
)
COUNT = len(ELEMENTS)
WEIGHT = Decimal(1) / Decimal(COUNT)
GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang baik"),
    (Decimal("25.00"), "D", "Tidak baik"),
)
_PAIR = re.compile(r"(?<!\d)([1-9])\s*[.=:)\-]\s*([1-4])(?!\d)")
_SCORE = re.compile(r"(?<!\d)([1-4])(?!\d)|(?<!\d)([1-4]{9})(?!\d)")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
MAX_LETTERS = 40
"""An answer by chat is numbers with a few words around them ("nilai saya: ..."); a longer
text is a message to the officer, not an answer."""


def parse_chat_answer(text: str) -> dict[int, int] | None:
    """Scores from a chat answer: nine numbers 1-4 in order ("4 4 3 4 4 3 4 4 3", "443443443"),
    or numbered pairs ("1=4, 2=3, ..."), all nine elements; None when it is not such an answer."""
    if len(_LETTERS.findall(text)) > MAX_LETTERS:
        return None
    pairs = _PAIR.findall(text)
    if len(pairs) == COUNT and {int(element) for element, _ in pairs} == set(range(1, COUNT + 1)):
        return {int(element): int(score) for element, score in pairs}
    digits = "".join(single or run for single, run in _SCORE.findall(text))
    if len(digits) == COUNT and len(re.findall(r"\d", text)) == COUNT:
        return {position: int(score) for position, score in enumerate(digits, start=1)}
    return None


def open_survey(connection: Connection, case_id: int, unit: str, channel: str, at: datetime) -> str | None:
    """The survey of a resolved case, once: its token, or None when one was sent before."""
    token = secrets.token_urlsafe(24)
    row = {"case_id": case_id, "token": token, "unit": unit, "channel": channel, "sent_at": at}
    created = connection.execute(insert_ignore(connection, SURVEYS).returning(SURVEYS.c.case_id), row).first()
    return token if created is not None else None


def record_answers(connection: Connection, case_id: int, scores: Mapping[int, int], via: str, at: datetime) -> bool:
    """Store one survey's answers; False when it was answered before (one answer per case)."""
    if not scores or any(not 1 <= e <= COUNT or not 1 <= s <= 4 for e, s in scores.items()):
        raise ValueError("scores are elements 1-9 with values 1-4")
    answered = connection.execute(
        update(SURVEYS)
        .where(and_(SURVEYS.c.case_id == case_id, SURVEYS.c.answered_at.is_(None)))
        .values(answered_at=at, answered_via=via)
    ).rowcount
    if not answered:
        return False
    connection.execute(
        SURVEY_ANSWERS.insert(), [{"case_id": case_id, "element": e, "score": s} for e, s in sorted(scores.items())]
    )
    return True


def waiting_survey(connection: Connection, case_id: int) -> bool:
    found = connection.execute(
        select(SURVEYS.c.case_id).where(and_(SURVEYS.c.case_id == case_id, SURVEYS.c.answered_at.is_(None)))
    ).first()
    return found is not None


def survey_by_token(connection: Connection, token: str) -> dict[str, object] | None:
    row = connection.execute(select(SURVEYS).where(SURVEYS.c.token == token)).mappings().first()
    return None if row is None else dict(row)


@dataclass(frozen=True, slots=True)
class Index:
    """The SKM of one unit (or all) over a period."""

    unit: str | None
    respondents: int
    element_means: dict[int, Decimal]
    """NRR per element: sum of its scores / respondents who answered it."""
    ikm: Decimal
    converted: Decimal
    grade: str
    performance: str


def compute(answers: Iterable[tuple[int, int, int]], unit: str | None = None) -> Index | None:
    """The index from ``(respondent, element, score)`` rows, as the regulation computes it."""
    totals: dict[int, list[int]] = {}
    respondents: set[int] = set()
    for respondent, element, score in answers:
        totals.setdefault(element, []).append(score)
        respondents.add(respondent)
    if not totals:
        return None
    means = {element: Decimal(sum(scores)) / Decimal(len(scores)) for element, scores in sorted(totals.items())}
    weight = WEIGHT if len(means) == COUNT else Decimal(1) / Decimal(len(means))
    ikm = sum((mean * weight for mean in means.values()), Decimal(0))
    converted = (ikm * 25).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    grade, performance = grade_of(converted)
    return Index(
        unit=unit,
        respondents=len(respondents),
        element_means={e: m.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) for e, m in means.items()},
        ikm=ikm.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
        converted=converted,
        grade=grade,
        performance=performance,
    )


def grade_of(converted: Decimal) -> tuple[str, str]:
    for lower, grade, performance in GRADES:
        if converted >= lower:
            return grade, performance
    return GRADES[-1][1], GRADES[-1][2]


def indexes(connection: Connection, start: datetime, end: datetime) -> list[Index]:
    """The index per unit, then of all units together, for surveys answered in [start, end)."""
    rows = connection.execute(
        select(SURVEYS.c.unit, SURVEY_ANSWERS.c.case_id, SURVEY_ANSWERS.c.element, SURVEY_ANSWERS.c.score)
        .select_from(SURVEY_ANSWERS.join(SURVEYS, SURVEYS.c.case_id == SURVEY_ANSWERS.c.case_id))
        .where(and_(SURVEYS.c.answered_at >= start, SURVEYS.c.answered_at < end))
        .order_by(SURVEYS.c.unit, SURVEY_ANSWERS.c.case_id)
    ).all()
    by_unit: dict[str, list[tuple[int, int, int]]] = {}
    for unit, case_id, element, score in rows:
        by_unit.setdefault(unit, []).append((case_id, element, score))
    found = [compute(answers, unit) for unit, answers in by_unit.items()]
    overall = compute([(c, e, s) for _u, c, e, s in rows])
    return [index for index in [*found, overall] if index is not None]


def answered_count(connection: Connection) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(SURVEYS).where(SURVEYS.c.answered_at.isnot(None))
        ).scalar_one()
    )


def labels(language: str) -> Sequence[str]:
    return [english if language == "en" else indonesian for indonesian, english in ELEMENTS]
