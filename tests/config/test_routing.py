"""config/routing.toml loads, and invalid routing configs fail with messages naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.routing import (
    DEFAULT_ROUTING_PATH,
    KINDS,
    RoutingConfig,
    RoutingConfigError,
    load_routing,
)

EXPECTED_UNITS = {
    "akademik",
    "keuangan",
    "sarpras",
    "kemahasiswaan",
    "kepegawaian",
    "tik",
    "ppkpt",
    "spi",
    "frontdesk",
}

MINIMAL = """
default_unit = "frontdesk"

[[units]]
key = "frontdesk"
name = "Front Desk ULT"

[[units]]
key = "keuangan"
name = "Bagian Keuangan"
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "routing.toml"
    path.write_text(MINIMAL + body, encoding="utf-8")
    return path


def load_error(tmp_path: Path, body: str) -> str:
    with pytest.raises(RoutingConfigError) as excinfo:
        load_routing(write(tmp_path, body))
    return str(excinfo.value)


# -- the shipped config ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routing() -> RoutingConfig:
    return load_routing(DEFAULT_ROUTING_PATH)


def test_shipped_config_has_exactly_the_gold_units(routing: RoutingConfig) -> None:
    assert set(routing.unit_keys) == EXPECTED_UNITS
    assert routing.default_unit == "frontdesk"
    for unit in routing.units:
        assert unit.name.strip(), unit.key


def test_only_ppkpt_and_spi_are_sensitive(routing: RoutingConfig) -> None:
    assert routing.sensitive_units == {"ppkpt", "spi"}
    assert routing.unit("ppkpt").sensitive
    assert not routing.unit("akademik").sensitive


def test_unit_lookup_names_an_unknown_key(routing: RoutingConfig) -> None:
    assert routing.unit("tik").key == "tik"
    with pytest.raises(KeyError, match="'perpustakaan'"):
        routing.unit("perpustakaan")


def test_shipped_rules_cover_every_unit_and_kind(routing: RoutingConfig) -> None:
    assert {r.unit for r in routing.rules if r.unit} == EXPECTED_UNITS
    assert {r.kind for r in routing.rules if r.kind} == set(KINDS)
    assert any(r.confidential and r.unit is None for r in routing.rules), "anonymity rule"


def test_shipped_slang_map_normalises_common_chat_words(routing: RoutingConfig) -> None:
    assert routing.slang["gk"] == "tidak"
    assert routing.slang["blm"] == "belum"
    assert routing.slang["min"] == ""  # salutation, dropped


def test_minimal_config_uses_defaults(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path, ""))
    assert routing.rules == []
    assert routing.kind.default == "pengaduan"
    assert routing.scoring.min_unit_score >= 0


# -- validation errors name the offending key --------------------------------------------------


def test_rule_pointing_at_unknown_unit_names_rule_and_unit(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        """
[[rules]]
name = "perpus.buku"
unit = "perpustakaan"
phrases = ["buku"]
""",
    )
    assert "perpus.buku" in message
    assert "'perpustakaan'" in message
    assert "unknown unit" in message
    assert "routing.toml" in message  # the file is named too


def test_unknown_default_unit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(MINIMAL.replace('default_unit = "frontdesk"', 'default_unit = "ult"'))
    with pytest.raises(RoutingConfigError, match="default_unit 'ult'"):
        load_routing(path)


def test_duplicate_unit_key_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[units]]\nkey = "keuangan"\nname = "Lagi"\n')
    assert "duplicate unit key" in message
    assert "keuangan" in message


def test_duplicate_rule_name_is_rejected(tmp_path: Path) -> None:
    rule = '\n[[rules]]\nname = "keuangan.ukt"\nunit = "keuangan"\nphrases = ["ukt"]\n'
    assert "duplicate rule name 'keuangan.ukt'" in load_error(tmp_path, rule + rule)


def test_invalid_kind_is_reported_at_the_rule(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        '\n[[rules]]\nname = "jenis.keluhan"\nkind = "keluhan"\nphrases = ["kecewa"]\n',
    )
    assert "rules[0] 'jenis.keluhan' -> kind" in message
    assert "pengaduan" in message  # the allowed values are listed


def test_bad_weight_is_reported_at_the_rule(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        '\n[[rules]]\nname = "keuangan.ukt"\nunit = "keuangan"\nweight = -1\nphrases = ["ukt"]\n',
    )
    assert "rules[0] 'keuangan.ukt' -> weight" in message


def test_misspelt_field_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[rules]]\nname = "keuangan.ukt"\nunit = "keuangan"\nphrase = ["ukt"]\n')
    assert "rules[0] 'keuangan.ukt' -> phrase" in message


def test_rule_without_effect_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[rules]]\nname = "kosong"\nphrases = ["apa"]\n')
    assert "rule 'kosong' has no effect" in message


def test_rule_without_phrases_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[rules]]\nname = "kosong"\nunit = "keuangan"\n')
    assert "rule 'kosong' has no phrases" in message


def test_ambiguous_phrases_need_something_to_confirm_them(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[rules]]\nname = "spi.kkn"\nunit = "keuangan"\nambiguous = ["kkn"]\n')
    assert "'spi.kkn'" in message
    assert "context" in message


def test_empty_phrase_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '\n[[rules]]\nname = "keuangan.ukt"\nunit = "keuangan"\nphrases = ["ukt", "  "]\n')
    assert "rules[0] 'keuangan.ukt' -> phrases" in message
    assert "empty phrase" in message


def test_kind_weight_without_kind_is_rejected(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        '\n[[rules]]\nname = "keuangan.ukt"\nunit = "keuangan"\nkind_weight = 2\nphrases = ["ukt"]\n',
    )
    assert "kind_weight" in message


def test_invalid_reference_regex_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "\n[completeness]\nreference_patterns = ['ULT-(']\n")
    assert "completeness -> reference_patterns" in message
    assert "invalid regex" in message


def test_multi_word_slang_key_is_rejected(tmp_path: Path) -> None:
    assert "slang key 'gak bisa'" in load_error(tmp_path, '\n[slang]\n"gak bisa" = "tidak bisa"\n')


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text("[[units]\nkey = ", encoding="utf-8")
    with pytest.raises(RoutingConfigError, match=r"cannot read routing config .*routing\.toml"):
        load_routing(path)


def test_missing_file_is_a_routing_config_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="cannot read"):
        load_routing(tmp_path / "nope.toml")


def test_errors_are_value_errors(tmp_path: Path) -> None:
    """Callers that catch ValueError (e.g. settings loading) also catch routing errors."""
    with pytest.raises(ValueError, match="unknown unit"):
        load_routing(write(tmp_path, '\n[[rules]]\nname = "x"\nunit = "y"\nphrases = ["z"]\n'))
