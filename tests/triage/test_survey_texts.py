"""The SKM index computed as PermenPANRB 14/2017 does, the chat answer's forms, the reply texts
(a broken template stops start-up), the reporter's language and the required contents."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.routing import load_routing
from config.settings import DEFAULT_TEMPLATES_DIR, AccessSettings, ConfigError
from envelopes import NormalizedMessage, Reporter
from triage.access import UnknownRole, may_see_reporter
from triage.completeness import Completeness
from triage.language import detect
from triage.survey import compute, grade_of, parse_chat_answer
from triage.texts import SAMPLES, Texts

WITA = ZoneInfo("Asia/Makassar")


def test_the_index_of_a_worked_example() -> None:
    """Four respondents; each element's mean (NRR), their mean with weight 1/9 (IKM), x25, grade.

    Element sums: 14 13 12 16 13 12 14 11 13 -> NRR 3.5 3.25 3.0 4.0 3.25 3.0 3.5 2.75 3.25;
    IKM = sum(NRR) / 9 = 29.5 / 9 = 3.2778; converted 81.94 -> B (76.61-88.30, "Baik").
    """
    answers = [
        [4, 3, 3, 4, 3, 3, 4, 3, 3],
        [3, 4, 3, 4, 4, 3, 3, 2, 3],
        [4, 3, 3, 4, 3, 3, 4, 3, 4],
        [3, 3, 3, 4, 3, 3, 3, 3, 3],
    ]
    rows = [
        (respondent, element, score)
        for respondent, scores in enumerate(answers)
        for element, score in enumerate(scores, 1)
    ]
    index = compute(rows, "sarpras")
    assert index is not None
    assert [str(index.element_means[e]) for e in range(1, 10)] == [
        "3.500", "3.250", "3.000", "4.000", "3.250", "3.000", "3.500", "2.750", "3.250",
    ]  # fmt: skip
    assert index.ikm == Decimal("3.278") and index.converted == Decimal("81.94")
    assert (index.grade, index.performance, index.respondents) == ("B", "Baik", 4)


@pytest.mark.parametrize(
    ("converted", "grade"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
    ],
)
def test_grade_boundaries(converted: str, grade: str) -> None:
    assert grade_of(Decimal(converted))[0] == grade


def test_an_element_nobody_answered_does_not_weigh() -> None:
    index = compute([(1, 1, 4), (1, 2, 2)])
    assert index is not None and index.ikm == Decimal("3.000") and index.converted == Decimal("75.00")


@pytest.mark.parametrize(
    ("text", "scores"),
    [
        ("4 4 3 4 4 3 4 4 3", [4, 4, 3, 4, 4, 3, 4, 4, 3]),
        ("443443443", [4, 4, 3, 4, 4, 3, 4, 4, 3]),
        ("nilai saya: 1=4, 2=3, 3=4, 4=4, 5=3, 6=4, 7=4, 8=3, 9=2", [4, 3, 4, 4, 3, 4, 4, 3, 2]),
        ("4 4 3", None),
        ("5 4 3 4 4 3 4 4 3", None),
        ("AC di ruang 4 masih rusak sejak 3 hari, tolong cek lagi lantai 2 gedung 1, kamar 4 4 3 4", None),
    ],
)
def test_chat_answers(text: str, scores: list[int] | None) -> None:
    parsed = parse_chat_answer(text)
    assert (None if parsed is None else [parsed[e] for e in range(1, 10)]) == scores


def test_every_text_renders_in_both_languages_and_a_broken_one_stops_start_up(tmp_path: Path) -> None:
    texts = Texts.load(DEFAULT_TEMPLATES_DIR, WITA)
    english = texts.render("receipt", "en", **SAMPLES["receipt"])
    assert english.subject.startswith("[ULT-26-00001-3] We have received")
    assert "Friday, 27 March 2026 at 16:00 WITA" in english.body
    assert "Jumat, 27 Maret 2026 pukul 16.00 WITA" in texts.render("receipt", "id", **SAMPLES["receipt"]).body
    broken = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, broken)
    (broken / "en" / "survey.txt.j2").write_text("[{{ tracking_number }] Survey\n\n{{ link }}\n")
    with pytest.raises(ConfigError, match=r"en/survey.txt.j2 line 1"):
        Texts.load(broken, WITA)
    (broken / "en" / "survey.txt.j2").write_text("[{{ tracking_number }}] Survey\n\n{{ survey_link }}\n")
    with pytest.raises(ConfigError, match=r"survey_link"):
        Texts.load(broken, WITA)
    (broken / "en" / "survey.txt.j2").unlink()
    with pytest.raises(ConfigError, match=r"en/survey.txt.j2 is missing"):
        Texts.load(broken, WITA)


def test_confidential_texts_name_no_unit() -> None:
    texts = Texts.load(DEFAULT_TEMPLATES_DIR, WITA)
    for name in ("receipt", "report"):
        for language in ("id", "en"):
            shown = texts.render(name, language, **{**SAMPLES[name], "confidential": True, "unit_name": "Satgas PPKPT"})
            assert "Satgas" not in shown.body, (name, language)


@pytest.mark.parametrize(
    ("text", "declared", "language"),
    [
        ("The air conditioner in room E-101 has been broken since Monday", "id", "en"),
        ("AC di ruang E-101 rusak sejak senin, tolong diperbaiki", "id", "id"),
        ("wifi down, login error", "id", "id"),
        ("Saya mau tanya", "en", "en"),  # the form's choice wins
    ],
)
def test_language(text: str, declared: str, language: str) -> None:
    assert detect(text, declared) == language


def message(text: str, channel: str = "chat", name: str | None = None, **extra: object) -> NormalizedMessage:
    return NormalizedMessage(
        channel=channel,
        channel_message_id="m",
        raw_message_id=1,
        conversation_key="k",
        text=text,
        received_at=datetime.now(UTC),
        reporter=Reporter(name=name),
        **extra,
    )


def test_required_contents() -> None:
    check = Completeness.build(load_routing())
    assert check.missing(message("AC rusak"), "pengaduan", "sarpras", anonymous_asked=False) == [
        "identity", "place", "what",
    ], "a broken facility's time is now: not asked"  # fmt: skip
    staff = "Petugas loket akademik membentak saya dan menolak melayani pengajuan surat aktif kuliah."
    assert check.missing(message(staff, name="Rina"), "pengaduan", "kepegawaian", anonymous_asked=False) == [
        "time",
    ], "an incident's time is asked"  # fmt: skip
    full = "AC di ruang E-101 gedung E rusak sejak senin pagi, panas sekali saat kuliah"
    assert check.missing(message(full, name="Rina"), "pengaduan", "sarpras", anonymous_asked=False) == []
    assert check.missing(message(full), "pengaduan", "sarpras", anonymous_asked=True) == [], "anonymous: no name asked"
    assert check.missing(message(full), "pengaduan", "sarpras", anonymous_asked=False) == ["identity"]
    assert check.missing(message("AC rusak", "webform"), "pengaduan", "sarpras", anonymous_asked=False) == [
        "place", "what",
    ], "the web form has a name field: never asked again"  # fmt: skip
    levy = "Petugas loket parkir minta uang 20 ribu di gerbang utama kemarin siang tanpa karcis resmi."
    assert check.missing(message(levy, name="Budi"), "pengaduan", "spi", anonymous_asked=False) == [], (
        "internal audit asks for evidence in its own interview: a whistleblower is not made to wait"
    )
    nobody = "Ada pungutan 20 ribu di gerbang utama kemarin siang tanpa karcis resmi."
    assert check.missing(message(nobody, name="Budi"), "pengaduan", "spi", anonymous_asked=False) == ["who"]
    question = message("Kapan jadwal wisuda?")
    asks = {"kind": "permintaan_informasi", "unit": "akademik", "anonymous_asked": False}
    assert check.missing(question, **asks, described=True) == [], "a question has no incident: no place or time"
    assert check.missing(message("mau tanya"), **asks, described=False) == ["what"], "the classifier: nothing asked"
    assert check.missing(message("tolong"), "pengaduan", "ppkpt", anonymous_asked=False) == [], "Satgas asks in person"


def test_who_sees_the_reporter() -> None:
    assert AccessSettings().unit_identity_roles == {}, "no unit is named in code: config/satupintu.toml names them"
    access = AccessSettings(unit_identity_roles={"ppkpt": ["unit"]})
    confidential = {"confidential": True, "anonymous": False, "unit": "ppkpt"}
    anonymous = {"confidential": False, "anonymous": True, "unit": "sarpras"}
    plain = {"confidential": False, "anonymous": False, "unit": "sarpras"}
    assert may_see_reporter(access, "admin", confidential)
    assert may_see_reporter(access, "unit", confidential), "ppkpt's own officers"
    assert not may_see_reporter(access, "unit", confidential, unit="spi"), "never another unit's officers"
    assert not may_see_reporter(access, "ult", confidential)
    assert not may_see_reporter(access, "auditor", confidential)
    assert not may_see_reporter(access, "unit", anonymous) and may_see_reporter(access, "admin", anonymous)
    assert not may_see_reporter(access, "unit", {**confidential, "anonymous": True}), "anonymous: only identity_roles"
    assert may_see_reporter(access, "unit", plain) and may_see_reporter(access, "auditor", plain)
    with pytest.raises(UnknownRole):
        may_see_reporter(access, "rektor", plain)


def test_satupintu_run_refuses_to_start_with_a_broken_template(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from workers import cli

    broken = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, broken)
    (broken / "id" / "reply.txt.j2").write_text("[{{ tracking_number }] x\n\n{{ text }}\n")
    env = {"SATUPINTU_DATA_DIR": str(tmp_path / "var"), "SATUPINTU_TEMPLATES_DIR": str(broken)}
    result = CliRunner().invoke(cli, ["run"], env=env, obj={})
    assert result.exit_code == 2
    assert "id/reply.txt.j2 line 1" in result.output
