"""Who is hidden: a reporter who asks not to be named gets an anonymous case (their name hidden
from the unit too), whichever of the routing file's ``anonymity_rules`` heard the wish; a wish
that the matter stay quiet ("jangan sampai dia tahu") keeps the case confidential, but the
officer still sees who wrote, to call them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.routing import RoutingConfigError, load_routing
from triage.assessment import Assessment, Assessor
from triage.evaluation import Row, message_of

ROUTING = """
default_unit = "frontdesk"
{anonymity}

[[units]]
key = "frontdesk"
name = "Front Desk"

[[rules]]
name = "permintaan_anonim"
confidential = true
phrases = ["anonim"]

[[rules]]
name = "rahasia.jangan_nama"
confidential = true
phrases = ["jangan sebut nama"]
"""


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return Assessor(load_routing())


def assess(assessor: Assessor, text: str) -> Assessment:
    return assessor.assess(message_of(Row("t", text, "whatsapp", "Rina", {})))


@pytest.mark.parametrize(
    "text",
    [
        "sy mau lapor soal dosen yg minta uang, tlg jgn sebut nama sy ya",  # rahasia.jangan_nama
        "nama saya tidak usah dicatat, tapi staf TU minta uang 50rb buat legalisir",  # nama_tidak_dicatat
        "saya mau lapor secara anonim",  # permintaan_anonim
    ],
)
def test_a_reporter_who_asks_not_to_be_named_gets_an_anonymous_case(assessor: Assessor, text: str) -> None:
    found = assess(assessor, text)
    assert found.confidential and found.anonymous, found.reasons


def test_a_wish_that_the_matter_stay_quiet_is_confidential_but_not_anonymous(assessor: Assessor) -> None:
    found = assess(assessor, "AC ruang 301 bocor terus, jangan sampai dosennya tahu ya kalau sy yg ngeluh")
    assert found.confidential and not found.anonymous, found.reasons


def write(tmp_path: Path, anonymity: str) -> Path:
    path = tmp_path / "routing.toml"
    path.write_text(ROUTING.format(anonymity=anonymity), encoding="utf-8")
    return path


def test_every_rule_of_the_list_makes_a_case_anonymous(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path, 'anonymity_rules = ["permintaan_anonim", "rahasia.jangan_nama"]'))
    found = assess(Assessor(routing), "tolong jangan sebut nama saya")
    assert found.anonymous


def test_an_anonymity_rule_that_is_no_rule_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="permintaan_anonym"):
        load_routing(write(tmp_path, 'anonymity_rules = ["permintaan_anonym"]'))
