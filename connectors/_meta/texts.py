"""Long replies as several messages: Meta caps one text (WhatsApp 4,096 characters, Instagram
1,000 UTF-8 bytes), and cutting a reply short would lose what the officer wrote."""

from __future__ import annotations

from collections.abc import Callable


def chunks(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """``text`` in pieces of at most ``limit`` by ``size``, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for whole in text.splitlines(keepends=True) or [""]:
        line = whole
        while size(line) > limit:  # one very long line: cut it by characters
            cut = len(line)
            while size(line[:cut]) > limit:
                cut = cut * 9 // 10
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if size(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [p.rstrip("\n") or " " for p in pieces]


def utf8_size(text: str) -> int:
    return len(text.encode())
