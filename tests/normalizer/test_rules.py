"""The rules every channel's messages go through: phones, emails, HTML, whitespace."""

from __future__ import annotations

import pytest

from normalizer.rules import clean_text, html_to_text, normalize_email, normalize_phone

# research/domain.md §3
PHONES = [
    ("081234567890", "+6281234567890"),
    ("0812-3456-7890", "+6281234567890"),
    ("0812.3456.7890", "+6281234567890"),
    ("+62 812-3456-7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("62081234567890", "+6281234567890"),
    ("81234567890", "+6281234567890"),
    ("(0542) 8530801", "+625428530801"),
    ("(021) 5703303", "+62215703303"),
    ("+60 12-345 6789", "+60123456789"),
    ("8530801", None),
    ("1708", None),
    ("0811 5475 xxx", None),  # letters are not mapped to keypad digits
    ("0812 345", None),
    ("0812345678901234", None),
    ("", None),
    ("tidak ada", None),
]


@pytest.mark.parametrize(("raw", "e164"), PHONES)
def test_phone_numbers(raw: str, e164: str | None) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Budi@Example.COM", "budi@example.com"),
        ("  <ult@itk.ac.id> ", "ult@itk.ac.id"),
        ("bukan email", None),
        ("a@b", None),
        (None, None),
    ],
)
def test_emails(raw: str | None, clean: str | None) -> None:
    assert normalize_email(raw) == clean


def test_html_becomes_text_without_scripts() -> None:
    text = html_to_text("<p>Halo&nbsp;<b>min</b>,</p><script>alert(1)</script><ul><li>AC rusak</li></ul>")
    assert "alert" not in text
    assert "Halo min," in text and "AC rusak" in text


def test_whitespace_and_control_characters() -> None:
    messy = "  Halo\u00a0 min\r\n\r\n\r\n\r\nAC   rusak\x00\x07 \u200b\n"
    assert clean_text(messy) == "Halo min\n\nAC rusak"


def test_text_is_nfc() -> None:
    assert clean_text("Cafe\u0301") == "Caf\u00e9"
