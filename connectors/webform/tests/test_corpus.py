"""Every real complaint in the shared corpus, submitted through the web form, becomes one case
with one receipt: the parser, the normalizer and triage survive all of them. A row that is only a
greeting or a test ("halo min") gets the short greeting instead and is kept without a case."""

from __future__ import annotations

import asyncio
import csv
import re
from pathlib import Path

import aiohttp

from tests.support import corpus, eventually, make_settings, running_pipeline

FILES = ("public.csv", "ult-gold-public.csv")


def complaints() -> list[tuple[str, str]]:
    """``(id, text)`` of every row of the complaint files, read in place."""
    rows: list[tuple[str, str]] = []
    for name in FILES:
        with corpus("complaints", name).open(encoding="utf-8", newline="") as file:
            rows += [(row["id"], row["text"]) for row in csv.DictReader(file)]
    return rows


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


GREETING_MAX_WORDS = 6
"""A text kept without a case is a greeting, never a complaint: a few words at most."""


async def test_every_corpus_complaint_becomes_one_case_with_one_receipt(tmp_path: Path) -> None:
    rows = complaints()
    settings = make_settings(tmp_path / "var")
    async with running_pipeline(settings) as app, aiohttp.ClientSession(app.base_url) as http:

        async def submit(number: int, reference: str, text: str) -> None:
            report = {"email": f"pelapor{number}@example.id", "text": text, "client_reference": reference}
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202, (reference, await response.text())

        for start in range(0, len(rows), 50):
            await asyncio.gather(
                *(submit(n, ref, text) for n, (ref, text) in enumerate(rows[start : start + 50], start))
            )
        await eventually(
            lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == len(rows), timeout=60
        )
        assert app.scalar("SELECT count(*) FROM raw_message WHERE state != 'triaged'") == 0
        stored = {
            r["external_id"]: r["text"]
            for r in app.rows(
                "SELECT r.external_id, m.text FROM raw_message r JOIN case_message m ON m.raw_message_id = r.id"
            )
        }
        greeted = app.rows(
            "SELECT r.external_id, c.text, c.answer FROM raw_message r"
            " JOIN caseless_message c ON c.raw_message_id = r.id"
        )
        assert app.scalar("SELECT count(*) FROM cases") == len(stored) == len(rows) - len(greeted)
        assert app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'receipt'") == len(stored)
    for row in greeted:
        assert row["answer"] == "greeting" and len(words(row["text"])) <= GREETING_MAX_WORDS, row
        stored[row["external_id"]] = row["text"]
    for reference, text in rows:
        assert words(stored[reference]) == words(text), f"{reference}: the words of the complaint changed"
