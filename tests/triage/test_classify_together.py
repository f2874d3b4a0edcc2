"""Rules with ``together`` word families: a rule counts when every family has a word in the
message (within ``window`` tokens when set), which is how harm or a demand told in ordinary words
is recognised (a person + a touch + a body part) without a phrase for each way of telling it;
and on the shipped routing, what such rules recognise and what they leave alone."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from config.routing import RoutingConfig, load_routing
from triage.classify import Classifier


def routing_with(rule: dict[str, Any], *others: dict[str, Any]) -> RoutingConfig:
    return RoutingConfig.model_validate(
        {
            "default_unit": "desk",
            "units": [{"key": "desk", "name": "Desk"}, {"key": "task_force", "name": "TF", "sensitive": True}],
            "rules": [rule, *others],
            "negation": {"words": ["tidak ada", "bukan"]},
        }
    )


TOUCH = {
    "name": "touch",
    "unit": "task_force",
    "weight": 3.0,
    "negatable": True,
    "window": 4,
    "together": [["pegang*", "ngelus*"], ["paha*", "punggung*"]],
}


def test_a_rule_counts_once_when_every_family_has_a_word_near_the_others() -> None:
    classify = Classifier(routing_with(TOUCH)).classify
    near = classify("dia sering ngelus punggung saya")
    assert (near.unit, near.confidential) == ("task_force", True)
    assert near.reasons == ("touch: ngelus, punggung",), "the reasons show a word of each family"
    assert classify("yang pegang kunci ruang siapa").unit == "desk", "one family alone says nothing"
    far = classify("dia pegang berkas di meja lalu saya pulang dan besoknya paha saya sakit")
    assert far.unit == "desk", "the words are further apart than the window"


def test_a_negation_cancels_the_family_word_after_it() -> None:
    classify = Classifier(routing_with(TOUCH)).classify
    found = classify("bukan ngelus punggung sih, cuma salaman")
    assert found.unit == "desk"
    assert "negasi: bukan ngelus" in found.reasons


def test_family_words_take_no_words_from_phrases_or_from_other_rules() -> None:
    phrase = {"name": "back_pain", "unit": "desk", "weight": 1.0, "phrases": ["punggung saya"]}
    other = {**TOUCH, "name": "other", "window": None, "together": [["punggung saya sakit"], ["pegang*"]]}
    found = Classifier(routing_with(TOUCH, phrase, other)).classify("dia pegang punggung saya sakit")
    assert {"touch", "back_pain", "other"} <= set(found.rules)


def test_together_needs_two_non_empty_families_and_window_needs_together() -> None:
    with pytest.raises(ValidationError, match="at least two word families"):
        routing_with({**TOUCH, "together": [["pegang"]]})
    with pytest.raises(ValidationError, match="empty word family"):
        routing_with({**TOUCH, "together": [["pegang"], []]})
    with pytest.raises(ValidationError, match="window is set but together is not"):
        routing_with({"name": "w", "unit": "desk", "phrases": ["x"], "window": 3})


def test_an_unless_word_cancels_its_rule_and_only_its_rule() -> None:
    secrecy = {
        "name": "secrecy",
        "confidential": True,
        "window": 3,
        "together": [["jangan"], ["bilang"]],
        "unless": ["kejutan", "ulang tahun"],
    }
    room = {"name": "room", "unit": "desk", "weight": 2.0, "phrases": ["ruang seminar"]}
    classify = Classifier(routing_with(secrecy, room, TOUCH)).classify
    assert classify("jangan bilang siapa-siapa ya, dia suka ngelus punggung saya").confidential
    surprise = classify("jangan bilang siapa-siapa ya, mau bikin kejutan ulang tahun di ruang seminar")
    assert not surprise.confidential
    assert surprise.rules == ("room",), "the other rules still count"
    assert "kecuali: secrecy: kejutan" in surprise.reasons
    both = classify("jangan bilang siapa-siapa, kejutan buat dia; tapi dia suka ngelus punggung saya")
    assert (both.unit, both.confidential) == ("task_force", True), "a disclosure is not a surprise"
    with pytest.raises(ValidationError, match="empty"):
        routing_with({**secrecy, "unless": [" "]})


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_routing())


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        # a person of authority, a channel and a personal remark at night
        ("dosen wali chat sy jam 11 malem nanya udh tidur belum", "ppkpt"),
        # an invitation to be alone, outside hours
        ("pembimbing minta sy dateng sendirian ke rumahnya malam minggu buat revisi", "ppkpt"),
        # a grade on the condition of a favour
        ("katanya nilai sy aman asal mau nemenin beliau makan malam", "ppkpt"),
        # a remark on the shape of a body
        ("kaprodi mengomentari bentuk tubuh mahasiswi di depan kelas", "ppkpt"),
        # a travel claim that did not happen
        ("uang perjalanan dinas dicairkan padahal beliau masuk kantor seperti biasa", "spi"),
        # an asset put to private use
        ("mobil dinas fakultas dipakai buat mudik keluarga pejabat", "spi"),
        # a pay cut by a person, for an unofficial fund
        ("honor asisten dipotong koordinator buat kas tanpa dasar", "spi"),
        # money under another name for a smooth passage
        ("katanya harus ngasih titipan buat bapaknya biar berkas cepat diproses", "spi"),
    ],
)
def test_harm_and_demands_told_in_ordinary_words(shipped: Classifier, text: str, unit: str) -> None:
    found = shipped.classify(text)
    assert (found.unit, found.confidential) == (unit, True), found.reasons


@pytest.mark.parametrize(
    "text",
    [
        "yg pegang kunci ruang himpunan siapa ya? kita mau rapat",
        "min jgn bilang siapa2 ya, kami mau bikin kejutan ultah buat dosen PA, boleh pinjam ruang seminar?",
        "honor narasumber seminar dikasih amplop tunai, tanda tangan kuitansinya di mana ya?",
        "dinding kamar asrama kalau diraba basah dan berjamur",
        "dosen pembimbing chat jam 10 malam kasih revisi skripsi, wajar ga?",
        "dosen bilang badan sy kurang fit buat praktikum lapangan",
        "kalau tidak bayar denda perpus nanti ijazah ditahan ya?",
        "amplop coklat buat berkas beasiswa isinya apa aja?",
        "kak legalisir kilat biar cepat ada ga? bayar resminya berapa",
        "dosen tidak mau tahu alasan sy telat, langsung absen alpa",
        "gpp kok nama sy disebut min, surat pengantar KP sy blm ditandatangani",
    ],
)
def test_ordinary_messages_with_the_same_words_stay_ordinary(shipped: Classifier, text: str) -> None:
    found = shipped.classify(text)
    assert not found.confidential, found.reasons
