"""Rule-based triage: behaviour on hand-written messages, accuracy on the ULT gold set.

The gold set is read in place from ``../shared/corpus/complaints`` (never copied into the repo).
Run ``pytest -rA tests/triage/test_classify.py`` (or ``-s``) to see the accuracy report.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import FrozenInstanceError

import pytest

from config.routing import DEFAULT_ROUTING_PATH, KINDS, RoutingConfig, load_routing
from tests.support import corpus
from triage.classify import DECLARED_KIND_RULE, Classification, Classifier
from triage.text import Normalizer, PhraseMatcher, fold, tokenize

GOLD = ("complaints", "ult-gold-public.csv")
PUBLIC = ("complaints", "public.csv")
LABELS = ("kind", "unit", "confidential", "complete")

# Floors a little below what the shipped rules reach on ult-gold-public.csv (kind 0.97,
# unit 0.99, confidential 1.00, complete 0.98); a hidden set of the same kind checks that the
# rules are general, so these are regression guards, not targets.
FLOORS = {"kind": 0.90, "unit": 0.93, "confidential": 0.95, "complete": 0.92}
SENSITIVE_RECALL_FLOOR = 0.90  # ppkpt / spi cases must not leak to ordinary units


def read_csv(parts: tuple[str, str]) -> list[dict[str, str]]:
    with corpus(*parts).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def routing() -> RoutingConfig:
    return load_routing(DEFAULT_ROUTING_PATH)


@pytest.fixture(scope="module")
def clf(routing: RoutingConfig) -> Classifier:
    return Classifier(routing)


# -- text helpers ------------------------------------------------------------------------------


def test_fold_collapses_stretched_letters_and_reduplication() -> None:
    assert fold("TOLONGGG") == "tolong"
    assert fold("kuliah2 online") == "kuliah online"
    assert fold("dipegang-pegang") == "dipegang"
    assert fold("e-learning") == "e-learning"  # not a reduplication
    assert fold("kenapa???") == "kenapa?"


def test_fold_marks_money_amounts() -> None:
    assert tokenize(fold("diminta 150rb, katanya Rp500.000 atau 1,8jt")) == [
        "diminta",
        "uang",
        "katanya",
        "uang",
        "atau",
        "uang",
    ]


def test_tokenize_drops_emoji_and_keeps_question_marks() -> None:
    assert tokenize(fold("AC mati 🥵🙏 kapan dibenerin?")) == ["ac", "mati", "kapan", "dibenerin", "?"]


def test_normalizer_applies_slang_and_drops_salutations() -> None:
    normalize = Normalizer({"gk": "tidak", "blm": "belum", "min": "", "tq": "terima kasih"})
    assert normalize("min wifi gk bisa, blm nyala tq") == (
        "wifi",
        "tidak",
        "bisa",
        "belum",
        "nyala",
        "terima",
        "kasih",
    )


def test_phrase_matching_is_whole_token_not_substring() -> None:
    normalize = Normalizer({})
    matcher = PhraseMatcher([normalize.phrase("ac")])
    assert matcher.find(normalize("acara himpunan di aula")) == []
    assert len(matcher.find(normalize("AC ruang 201 mati"))) == 1


def test_longer_phrase_consumes_its_tokens() -> None:
    normalize = Normalizer({})
    matcher = PhraseMatcher([normalize.phrase("wisuda"), normalize.phrase("biaya wisuda")])
    found = matcher.find(normalize("biaya wisuda bisa dicicil?"))
    assert [(m.pattern, m.start, m.end) for m in found] == [(1, 0, 2)]


def test_prefix_wildcard_and_clitic_suffix() -> None:
    normalize = Normalizer({})
    matcher = PhraseMatcher([normalize.phrase("leceh*"), normalize.phrase("toilet")], clitics=["nya"])
    assert [m.pattern for m in matcher.find(normalize("dia melecehkan, lecehan"))] == [0]
    assert [m.pattern for m in matcher.find(normalize("toiletnya bau"))] == [1]
    assert matcher.find(normalize("toil")) == []


# -- classifier behaviour ----------------------------------------------------------------------


def test_ukt_message_goes_to_keuangan(clf: Classifier) -> None:
    result = clf.classify("min UKT sy semester ini naik jadi golongan 6, padahal gaji ortu turun")
    assert result.unit == "keuangan"
    assert result.kind == "pengaduan"
    assert result.rules[0] == "keuangan.ukt"
    assert not result.confidential
    assert result.priority == "normal"


def test_ac_is_not_matched_inside_acara(clf: Classifier) -> None:
    result = clf.classify("kapan acara wisuda periode ini dimulai?")
    assert result.unit == "akademik"
    assert not any(rule.startswith("sarpras.") for rule in result.rules)
    assert clf.classify("AC di ruang E-203 mati dua minggu").unit == "sarpras"


def test_sexual_harassment_is_ppkpt_confidential_high(clf: Classifier) -> None:
    result = clf.classify(
        "kak sy mau cerita, dosen pembimbing sy sering chat malem2 manggil sayang dan "
        "minta foto pake baju tertentu. sy takut nilai sy dijelekin"
    )
    assert result.unit == "ppkpt"
    assert result.kind == "pengaduan"
    assert result.confidential
    assert result.priority == "high"
    assert result.rules[0].startswith("ppkpt.")


def test_harassment_without_the_word_pelecehan(clf: Classifier) -> None:
    result = clf.classify("ada cowok ngintip dari ventilasi kamar mandi asrama putri td malam")
    assert (result.unit, result.confidential, result.priority) == ("ppkpt", True, "high")


def test_fraud_is_spi_even_inside_an_academic_topic(clf: Classifier) -> None:
    result = clf.classify("abis sidang TA dosen penguji minta uang rokok, temen2 pada ngasih 100rb biar nilai aman")
    assert (result.unit, result.kind, result.confidential, result.priority) == (
        "spi",
        "pengaduan",
        True,
        "high",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Pohon di depan gedung B terlalu rimbun, minta tolong dipotong",
        "sistem check in wisuda pakai aplikasi lemot banget",
        "banyak mobil parkir menginap di bahu jalan depan asrama",
        "sayang sekali seminar himpunan kemarin dibatalkan",
        "kak seksi acara PKKMB siapa ya yang pegang?",
        "saya bisa kirim foto kerusakan AC ruang 204",
        "oknum dokter di klinik kampus tidak mau melayani, judes",
        "ada korban jatuh di tangga gedung C yang licin",
    ],
)
def test_everyday_words_do_not_trigger_sensitive_units(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert result.unit not in ("ppkpt", "spi"), result.rules
    assert not result.confidential


def test_asking_only_the_reporting_procedure_is_an_information_request(clf: Classifier) -> None:
    result = clf.classify("Bagaimana prosedur melaporkan dugaan gratifikasi secara anonim?")
    assert result.unit == "spi"
    assert result.kind == "permintaan_informasi"
    assert result.confidential


def test_anonymity_request_sets_confidential_in_an_ordinary_unit(clf: Classifier) -> None:
    result = clf.classify("tolong dirahasiakan ya kak. staf TU prodi Teknik Mesin sering marah2 ke mahasiswa")
    assert result.unit == "kepegawaian"
    assert result.confidential
    assert result.priority == "normal"
    assert "permintaan_anonim" in result.rules


@pytest.mark.parametrize(
    "text",
    [
        "jangan sebut nama saya, honor lembur kami belum dibayar",
        "Please keep it private: the library wifi keeps dropping",
        "bisa rahasia kan? sy mau tanya soal konseling",
        "mohon nama saya tidak disebutkan, gaji bulan ini telat",
    ],
)
def test_anonymity_phrases(clf: Classifier, text: str) -> None:
    assert clf.classify(text).confidential


def test_nama_saya_tidak_ada_is_not_an_anonymity_request(clf: Classifier) -> None:
    result = clf.classify("nama saya tidak ada di daftar peserta sidang TA gelombang 2")
    assert not result.confidential


def test_self_harm_is_high_priority_confidential_and_goes_to_the_front_desk(clf: Classifier) -> None:
    result = clf.classify("aku capek bgt sama kuliah, kadang pengen mati aja")
    assert (result.unit, result.priority, result.confidential) == ("frontdesk", "high", True)
    assert result.rules[0] == "darurat.risiko_bunuh_diri"


def test_declared_kind_wins_when_valid(clf: Classifier) -> None:
    text = "min AC ruang 301 mati"
    result = clf.classify(text, declared_kind="aspirasi")
    assert result.kind == "aspirasi"
    assert result.rules[-1] == DECLARED_KIND_RULE
    ignored = clf.classify(text, declared_kind="keluhan")
    assert ignored.kind == "pengaduan"
    assert DECLARED_KIND_RULE not in ignored.rules


def test_greeting_only_is_an_incomplete_information_request(clf: Classifier) -> None:
    result = clf.classify("Assalamualaikum, selamat pagi kak 🙏")
    assert result == Classification(
        kind="permintaan_informasi",
        unit="frontdesk",
        confidential=False,
        priority="normal",
        complete=False,
        rules=(),
    )


def test_announcing_a_report_without_content(clf: Classifier) -> None:
    result = clf.classify("min mau lapor")
    assert (result.kind, result.unit, result.complete) == ("pengaduan", "frontdesk", False)


def test_a_lone_weak_signal_stays_at_the_front_desk(clf: Classifier) -> None:
    result = clf.classify("kak sy mau lapor sesuatu ttg dosen tp takut, bisa dirahasiakan ga?")
    assert (result.unit, result.confidential, result.complete) == ("frontdesk", True, False)


def test_complaint_without_the_detail_needed_is_incomplete(clf: Classifier) -> None:
    assert not clf.classify("min AC rusak").complete
    assert not clf.classify("wifi ga bisa konek").complete
    assert clf.classify("min AC ruang E-203 rusak dari senin").complete
    assert clf.classify("laporan ULT-2611-0042 belum ada balasan").complete


def test_questions_that_report_a_failure_are_complaints(clf: Classifier) -> None:
    assert clf.classify("kok nilai praktikum sy ga masuk ke SIAKAD? padahal lengkap").kind == "pengaduan"
    assert clf.classify("kak syarat cicilan UKT apa aja ya?").kind == "permintaan_informasi"
    assert clf.classify("usul dong parkiran sepeda dikasih kanopi").kind == "aspirasi"


def test_scholarship_money_goes_to_keuangan_programme_to_kemahasiswaan(clf: Classifier) -> None:
    assert clf.classify("uang beasiswa KIP sy bulan ini blm cair").unit == "keuangan"
    assert clf.classify("kak beasiswa apa aja yg lagi buka? syaratnya apa").unit == "kemahasiswaan"


def test_wifi_in_the_dormitory_is_tik_doors_are_sarpras(clf: Classifier) -> None:
    assert clf.classify("wifi asrama blok B mati dari kemarin").unit == "tik"
    assert clf.classify("pintu kamar asrama blok C no 12 rusak, ga bisa dikunci").unit == "sarpras"


def test_ambiguous_kkn_needs_a_second_integrity_signal(clf: Classifier) -> None:
    assert clf.classify("ada dugaan KKN dan korupsi di pengadaan proyek gedung").unit == "spi"
    result = clf.classify("nilai KKN sy belum keluar, dosen pembimbing lapangan ga bisa dihubungi")
    assert result.unit == "akademik"
    assert not result.confidential


def test_subject_is_used_but_kept_apart_from_the_body(clf: Classifier) -> None:
    result = clf.classify("Mohon segera ditindaklanjuti, terima kasih.", subject="AC ruang 301 rusak")
    assert result.unit == "sarpras"
    assert clf.tokens("b", subject="a")[0] == "a"


def test_english_messages(clf: Classifier) -> None:
    assert clf.classify("I can't log in to SIAKAD, it says my account is disabled").unit == "tik"
    result = clf.classify("A classmate keeps touching my hair without permission. Please keep my name confidential.")
    assert (result.unit, result.confidential) == ("ppkpt", True)


def test_data_leak_is_high_priority_but_not_a_sensitive_unit(clf: Classifier) -> None:
    result = clf.classify("pas login SIAKAD yg muncul profil mahasiswa lain lengkap dengan NIK, data bocor")
    assert (result.unit, result.priority, result.confidential) == ("tik", "high", False)


def test_rules_are_ordered_by_weight_and_all_come_from_the_config(clf: Classifier, routing: RoutingConfig) -> None:
    result = clf.classify("min VA UKT sy ga muncul, padahal bsk deadline. wifi kampus juga lemot")
    names = {rule.name for rule in routing.rules} | {DECLARED_KIND_RULE}
    assert set(result.rules) <= names
    assert result.rules[0] == "keuangan.ukt"
    assert len(result.rules) == len(set(result.rules))


def test_classification_is_immutable(clf: Classifier) -> None:
    result = clf.classify("halo")
    with pytest.raises(FrozenInstanceError):
        result.unit = "spi"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", "   ", "???", "🙏🙏🙏", "x" * 5000, "ULT-2611-0042", "\x00\n\t"])
def test_degenerate_input_yields_valid_labels(clf: Classifier, routing: RoutingConfig, text: str) -> None:
    assert_valid(clf.classify(text), routing)


def test_classify_is_fast(clf: Classifier) -> None:
    texts = [
        "min AC ruang E-203 udh mati 2 minggu, panas bgt",
        "kak cara legalisir transkrip gmn ya? bisa online ga?",
        "dosen pembimbing sy minta bimbingan di kamar hotel, sy takut",
        "UKT smt depan kapan mulai bisa dibayar min? lewat bank apa aja?",
    ] * 250
    clf.classify("warm up")
    start = time.perf_counter()
    for text in texts:
        clf.classify(text)
    per_call = (time.perf_counter() - start) / len(texts)
    # ~0.02 ms on a developer machine; the bound is loose so that a slow CI runner passes.
    assert per_call < 0.002, f"{per_call * 1000:.3f} ms per classify call"


# -- corpus ------------------------------------------------------------------------------------


def assert_valid(result: Classification, routing: RoutingConfig) -> None:
    assert result.kind in KINDS
    assert result.unit in routing.unit_keys
    assert result.priority in ("normal", "high")
    assert isinstance(result.confidential, bool)
    assert isinstance(result.complete, bool)
    if result.unit in routing.sensitive_units:
        assert result.confidential
        assert result.priority == "high"


def as_labels(result: Classification) -> dict[str, str]:
    return {
        "kind": result.kind,
        "unit": result.unit,
        "confidential": str(result.confidential).lower(),
        "complete": str(result.complete).lower(),
    }


def report(rows: list[dict[str, str]], predicted: list[dict[str, str]]) -> str:
    total = len(rows)
    lines = [f"triage accuracy on {GOLD[-1]} ({total} rows)"]
    for label in LABELS:
        correct = sum(p[label] == r[label] for r, p in zip(rows, predicted, strict=True))
        lines.append(f"  {label:<13} {correct / total:.3f}  ({correct}/{total})")
    lines.append("  per gold unit: correct/total  [predicted instead]")
    by_unit: dict[str, Counter[str]] = {}
    for row, pred in zip(rows, predicted, strict=True):
        by_unit.setdefault(row["unit"], Counter())[pred["unit"]] += 1
    for unit in sorted(by_unit):
        counts = by_unit[unit]
        wrong = ", ".join(f"{u} {n}" for u, n in counts.most_common() if u != unit)
        lines.append(f"    {unit:<14} {counts[unit]:>3}/{sum(counts.values()):<3} {wrong}")
    return "\n".join(lines)


def test_gold_accuracy(clf: Classifier) -> None:
    rows = read_csv(GOLD)
    assert len(rows) >= 100
    predicted = [as_labels(clf.classify(row["text"])) for row in rows]
    print("\n" + report(rows, predicted))  # shown with -rA or -s
    for label, floor in FLOORS.items():
        accuracy = sum(p[label] == r[label] for r, p in zip(rows, predicted, strict=True)) / len(rows)
        assert accuracy >= floor, f"{label} accuracy {accuracy:.3f} < {floor}"
    for unit in ("ppkpt", "spi"):
        gold_rows = [p for r, p in zip(rows, predicted, strict=True) if r["unit"] == unit]
        recall = sum(p["unit"] == unit for p in gold_rows) / len(gold_rows)
        assert recall >= SENSITIVE_RECALL_FLOOR, f"{unit} recall {recall:.3f}"


def test_results_do_not_depend_on_earlier_messages(clf: Classifier, routing: RoutingConfig) -> None:
    """The per-token caches only save work: a fresh classifier and a used one agree."""
    texts = [row["text"] for row in read_csv(GOLD)]
    used = [clf.classify(text) for text in texts]
    fresh = Classifier(routing)
    assert [fresh.classify(text) for text in reversed(texts)][::-1] == used


def test_public_corpus_classifies_every_row(clf: Classifier, routing: RoutingConfig) -> None:
    rows = read_csv(PUBLIC)
    assert rows
    units: Counter[str] = Counter()
    for row in rows:
        result = clf.classify(row["text"])
        assert_valid(result, routing)
        units[result.unit] += 1
    print(f"\npublic.csv: {len(rows)} rows, units: {dict(units.most_common())}")
