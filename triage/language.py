"""The reporter's language: English when the message reads as English, else Indonesian.

A channel that knows (a form's language choice) sets ``NormalizedMessage.language``; anything
else than the default ``id`` it sets wins. Otherwise the message decides: English when at least
``MIN_ENGLISH`` of its words are common English function words and they outnumber the
Indonesian ones (mixed chat messages borrow English nouns, rarely English grammar).
"""

from __future__ import annotations

import re

from triage.texts import DEFAULT_LANGUAGE, LANGUAGES

MIN_ENGLISH = 3
_WORD = re.compile(r"[a-z']+")
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "it",
        "this",
        "that",
        "there",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "and",
        "or",
        "but",
        "not",
        "no",
        "can",
        "cannot",
        "could",
        "would",
        "should",
        "will",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "please",
        "since",
        "still",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
    ]
)
_INDONESIAN = frozenset(
    [
        "yang",
        "dan",
        "di",
        "ke",
        "dari",
        "ini",
        "itu",
        "saya",
        "kami",
        "kita",
        "anda",
        "tidak",
        "belum",
        "sudah",
        "ada",
        "dengan",
        "untuk",
        "pada",
        "karena",
        "tapi",
        "atau",
        "juga",
        "bisa",
        "mau",
        "ingin",
        "tolong",
        "mohon",
        "apa",
        "kapan",
        "dimana",
        "bagaimana",
        "kenapa",
        "sejak",
        "masih",
        "lagi",
        "sangat",
        "sekali",
        "kok",
        "ya",
        "nya",
    ]
)


def detect(text: str, declared: str = DEFAULT_LANGUAGE) -> str:
    if declared != DEFAULT_LANGUAGE and declared in LANGUAGES:
        return declared
    words = _WORD.findall(text.lower())
    english = sum(word in _ENGLISH for word in words)
    indonesian = sum(word in _INDONESIAN for word in words)
    return "en" if english >= MIN_ENGLISH and english > indonesian else DEFAULT_LANGUAGE
