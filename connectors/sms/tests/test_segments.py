"""Segment counts as the phone will send them: GSM-7 160/153, UCS-2 70/67, two-septet and
surrogate characters never split."""

from __future__ import annotations

import pytest

from connectors.sms.segments import count


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # 160 septets: each € takes two
        ("€" * 81, "GSM-7", 2),
        ("a" * 152 + "€" * 77, "GSM-7", 3),  # 306 septets, but an escape pair is never split across parts
        ("a" * 69 + "ê", "UCS-2", 1),  # one letter outside GSM-7 makes all of it UCS-2
        ("a" * 70 + "ê", "UCS-2", 2),
        ("Terima kasih 🙏", "UCS-2", 1),
        ("🙏" * 35, "UCS-2", 1),  # 70 UTF-16 units
        ("🙏" * 36, "UCS-2", 2),
        ("", "GSM-7", 1),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    found = count(text)
    assert (found.encoding, found.segments) == (encoding, segments)


def test_the_detail_names_what_an_officer_reads() -> None:
    assert count("Nomor tiket: ULT-26-0001").as_detail() == {
        "sms_encoding": "GSM-7",
        "sms_segments": 1,
        "sms_characters": 24,
    }
