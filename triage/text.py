"""Pure text helpers for rule-based triage of Indonesian chat text.

Pipeline (the same one is applied to messages and to the phrases in ``config/routing.toml``,
so the two always agree):

1. Unicode NFKC + casefold.
2. Reduplication to the base word: ``kuliah2`` -> ``kuliah``, ``pegang-pegang`` -> ``pegang``,
   ``dipegang-pegang`` -> ``dipegang``.
3. Runs of three or more identical letters collapse to one: ``tolonggg`` -> ``tolong``.
4. Tokenise on letters/digits (emoji, punctuation and stickers drop out); ``?`` is kept as a
   token of its own so that rules can use it as a question signal.
5. Slang map from the config: ``gk`` -> ``tidak``; a value may be several words, or empty to drop
   the token (salutations such as ``min`` / ``kak``).

Phrase matching works on whole tokens, never substrings (``ac`` does not match inside ``acara``).
A phrase token ending in ``*`` matches any token that starts with it (``leceh*`` matches
``lecehan``); a plain phrase token also matches the token with a clitic suffix from the config
(``toilet`` matches ``toiletnya``) when at least ``MIN_STEM`` letters remain. At every position
the longest phrase wins and its tokens are consumed, so multi-word phrases take precedence over
the single tokens inside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

QUESTION_MARK = "?"
WILDCARD = "*"
MIN_STEM = 3

_TOKEN_RE = re.compile(r"[^\W_]+|\?")
_REPEAT_RE = re.compile(r"([^\W\d_])\1{2,}")
_REDUP_DIGIT_RE = re.compile(r"\b([^\W\d_]{2,})2\b")
_REDUP_HYPHEN_RE = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")
_QUESTION_RUN_RE = re.compile(r"\?+")


def _redup_hyphen(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    return first if first.endswith(second) else match.group(0)


def fold(text: str) -> str:
    """Case-fold, undo reduplication and collapse stretched letters (no tokenising)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _REDUP_HYPHEN_RE.sub(_redup_hyphen, folded)
    folded = _REDUP_DIGIT_RE.sub(r"\1", folded)
    folded = _REPEAT_RE.sub(r"\1", folded)
    return _QUESTION_RUN_RE.sub(QUESTION_MARK, folded)


def tokenize(text: str) -> list[str]:
    """Split folded text into word tokens and ``?`` tokens."""
    return _TOKEN_RE.findall(text)


def apply_slang(tokens: Iterable[str], slang: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Replace slang tokens by their standard form(s); an empty replacement drops the token."""
    out: list[str] = []
    for token in tokens:
        replacement = slang.get(token)
        if replacement is None:
            out.append(token)
        else:
            out.extend(replacement)
    return out


def compile_slang(slang: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Turn the config's ``{slang: standard}`` map into token tuples (keys folded too)."""
    compiled: dict[str, tuple[str, ...]] = {}
    for key, value in slang.items():
        for token in tokenize(fold(key)):
            compiled[token] = tuple(tokenize(fold(value)))
    return compiled


class Normalizer:
    """Text -> normalised token tuple, with the slang map compiled once."""

    __slots__ = ("_slang",)

    def __init__(self, slang: Mapping[str, str]) -> None:
        self._slang = compile_slang(slang)

    def __call__(self, text: str) -> tuple[str, ...]:
        return tuple(apply_slang(tokenize(fold(text)), self._slang))

    def phrase(self, phrase: str) -> tuple[str, ...]:
        """Normalise a config phrase, keeping a trailing ``*`` on any of its words."""
        out: list[str] = []
        for word in phrase.split():
            prefix = word.endswith(WILDCARD)
            tokens = tokenize(fold(word.rstrip(WILDCARD)))
            if not prefix:
                out.extend(apply_slang(tokens, self._slang))
            elif tokens:
                out.extend(tokens[:-1])
                out.append(tokens[-1] + WILDCARD)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """One occurrence of a phrase: ``pattern`` indexes the matcher's pattern list."""

    pattern: int
    start: int
    end: int


class PhraseMatcher:
    """Longest-match-first, whole-token phrase matcher over normalised tokens.

    Patterns are token tuples (from :meth:`Normalizer.phrase`). ``find`` scans left to right;
    at each position it takes the longest pattern(s) that match, reports all patterns of that
    length, and skips past them, so a multi-word phrase consumes its tokens.
    """

    __slots__ = ("_clitics", "_exact", "_min_prefix", "_prefix", "patterns")

    def __init__(self, patterns: Sequence[tuple[str, ...]], clitics: Sequence[str] = ()) -> None:
        self.patterns: tuple[tuple[str, ...], ...] = tuple(patterns)
        self._clitics = tuple(c for c in clitics if c)
        self._exact: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        for index, pattern in enumerate(self.patterns):
            if not pattern:
                raise ValueError(f"empty phrase pattern at index {index}")
            head = pattern[0]
            if head.endswith(WILDCARD):
                self._prefix.setdefault(head[:-1], []).append(index)
            else:
                self._exact.setdefault(head, []).append(index)
        self._min_prefix = max(min((len(stem) for stem in self._prefix), default=1), 1)

    def _stems(self, token: str) -> list[str]:
        """The token and the token without a clitic suffix (``toiletnya`` -> ``toilet``)."""
        stems = [token]
        for clitic in self._clitics:
            if token.endswith(clitic) and len(token) - len(clitic) >= MIN_STEM:
                stems.append(token[: -len(clitic)])
        return stems

    def _token_matches(self, part: str, token: str) -> bool:
        if part.endswith(WILDCARD):
            return token.startswith(part[:-1])
        return part in self._stems(token)

    def _candidates(self, token: str) -> list[int]:
        found: list[int] = []
        for stem in self._stems(token):
            found.extend(self._exact.get(stem, ()))
        if self._prefix:
            for cut in range(self._min_prefix, len(token) + 1):
                found.extend(self._prefix.get(token[:cut], ()))
        return found

    def _matches_at(self, tokens: Sequence[str], start: int, index: int) -> bool:
        pattern = self.patterns[index]
        if start + len(pattern) > len(tokens):
            return False
        return all(
            self._token_matches(part, tokens[start + offset])
            for offset, part in enumerate(pattern)
        )

    def find(self, tokens: Sequence[str]) -> list[PhraseMatch]:
        matches: list[PhraseMatch] = []
        position = 0
        while position < len(tokens):
            best_len = 0
            best: list[int] = []
            for index in self._candidates(tokens[position]):
                length = len(self.patterns[index])
                if length < best_len or not self._matches_at(tokens, position, index):
                    continue
                if length > best_len:
                    best_len, best = length, [index]
                elif index not in best:
                    best.append(index)
            if best_len:
                matches.extend(PhraseMatch(i, position, position + best_len) for i in best)
                position += best_len
            else:
                position += 1
        return matches
