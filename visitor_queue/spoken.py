"""The call as the waiting room hears it: "Nomor antrian A dua belas, silakan ke Loket Pengaduan".

The browser of the display speaks it (speech synthesis, ``id-ID``); the words are made here so that
the display, the counter page and the command line say the same, and numbers are read as numbers
("dua belas"), not as digits ("nol satu dua").
"""

from __future__ import annotations

import re

from num2words import num2words

NUMBER = re.compile(r"^([A-Z]{1,3})(\d+)$")


def announcement(number: str, counter_name: str) -> str:
    found = NUMBER.match(number)
    if found is None:
        return f"Nomor antrian {number}, silakan ke {counter_name}"
    letters = " ".join(found.group(1))
    return f"Nomor antrian {letters} {num2words(int(found.group(2)), lang='id')}, silakan ke {counter_name}"
