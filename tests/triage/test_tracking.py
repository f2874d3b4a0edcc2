"""Tracking numbers catch every single mistyped digit and every swap of neighbours."""

from __future__ import annotations

import pytest

from triage.tracking import TrackingNumber, parse_tracking_number


def digits_of(number: TrackingNumber) -> str:
    return str(number).replace("ULT-", "").replace("-", "")


@pytest.mark.parametrize("sequence", [1, 42, 999, 12345, 99999, 100000])
def test_round_trip(sequence: int) -> None:
    number = TrackingNumber("ULT", 26, sequence)
    assert parse_tracking_number(str(number)) == number


@pytest.mark.parametrize("text", ["ult 26 00042 8", "#ULT-26-00042-8", " ULT2600042 8 ", "ULT-26-00042-8"])
def test_read_as_people_type_it(text: str) -> None:
    assert parse_tracking_number(text) == TrackingNumber("ULT", 26, 42)


@pytest.mark.parametrize("sequence", [7, 4021, 31337, 80086])
def test_every_single_digit_error_is_caught(sequence: int) -> None:
    digits = digits_of(TrackingNumber("ULT", 26, sequence))
    for position, original in enumerate(digits):
        for replacement in "0123456789":
            if replacement == original:
                continue
            typo = digits[:position] + replacement + digits[position + 1 :]
            assert parse_tracking_number(f"ULT-{typo[:2]}-{typo[2:-1]}-{typo[-1]}") is None, typo


@pytest.mark.parametrize("sequence", [7, 4021, 31337, 80086, 12121])
def test_every_adjacent_swap_is_caught(sequence: int) -> None:
    digits = digits_of(TrackingNumber("ULT", 26, sequence))
    for position in range(len(digits) - 1):
        a, b = digits[position], digits[position + 1]
        if a == b:
            continue
        swapped = digits[:position] + b + a + digits[position + 2 :]
        assert parse_tracking_number(f"ULT-{swapped[:2]}-{swapped[2:-1]}-{swapped[-1]}") is None, swapped


@pytest.mark.parametrize("text", ["", "ULT", "ULT-26-42-0", "26-00042-8", "ULT-26-00042-x", "ULT-26-00042-88"])
def test_malformed(text: str) -> None:
    assert parse_tracking_number(text) is None
