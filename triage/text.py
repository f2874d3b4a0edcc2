"""Pure text helpers for rule-based triage of Indonesian chat text.

Pipeline (the same one is applied to messages and to the phrases in ``config/routing.toml``,
so the two always agree):

1. Unicode NFKC + casefold.
2. Reduplication to the base word: ``kuliah2`` -> ``kuliah``, ``pegang-pegang`` -> ``pegang``,
   ``dipegang-pegang`` -> ``dipegang``.
3. Runs of three or more identical letters collapse to one: ``tolonggg`` -> ``tolong``.
4. Money amounts ("150rb", "Rp500.000", "1,8jt", "2 juta") become the word ``uang``, so
   "minta 100rb" matches the phrase "minta uang".
5. Tokenise on letters/digits (emoji, punctuation and stickers drop out); ``?`` is kept as a
   token of its own so that rules can use it as a question signal.
6. Slang map from the config: ``gk`` -> ``tidak``; a value may be several words, or empty to drop
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
_MONEY_RE = re.compile(
    r"\brp\.?\s?\d[\d.,]*(?:\s?(?:rb|ribu|k|jt|juta)\b)?"
    r"|\b\d+(?:[.,]\d+)?\s?(?:rb|ribu|rbu|k|jt|juta|rupiah)\b"
)
MONEY_TOKEN = "uang"

# Cheap necessary conditions for the rewrites above. Each rewrite scans the whole message and most
# messages need none of them, so ``fold`` only runs a rewrite whose precondition holds (the output
# is the same either way). Both regexes start with a literal, which ``re`` finds by fast search.
_LETTERS_TWO_RE = re.compile(r"2(?<=[^\W\d_]{2}2)")  # a "2" right after two letters
_TRIPLE_RE = re.compile(r"(?s)(.)\1\1")  # any character three times in a row
_DIGIT_RE = re.compile(r"\d")  # every money amount has a digit


def _redup_hyphen(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    return first if first.endswith(second) else match.group(0)


def fold(text: str) -> str:
    """Case-fold, undo reduplication, collapse stretched letters, mark money (no tokenising)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if "-" in folded:
        folded = _REDUP_HYPHEN_RE.sub(_redup_hyphen, folded)
    if _LETTERS_TWO_RE.search(folded):
        folded = _REDUP_DIGIT_RE.sub(r"\1", folded)
    if _TRIPLE_RE.search(folded):
        folded = _REPEAT_RE.sub(r"\1", folded)
    if _DIGIT_RE.search(folded):
        folded = _MONEY_RE.sub(f" {MONEY_TOKEN} ", folded)
    if "??" in folded:
        folded = _QUESTION_RUN_RE.sub(QUESTION_MARK, folded)
    return folded


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

    Every distinct pattern word gets an id; for each distinct input token the set of word ids
    it satisfies is computed once and cached (the cache is cleared when it reaches
    ``cache_size`` entries), so matching is a few set look-ups per token.
    """

    __slots__ = (
        "_by_head",
        "_cache",
        "_cache_size",
        "_clitics",
        "_exact",
        "_min_prefix",
        "_pattern_ids",
        "_prefix",
        "patterns",
    )

    def __init__(
        self,
        patterns: Sequence[tuple[str, ...]],
        clitics: Sequence[str] = (),
        cache_size: int = 50_000,
    ) -> None:
        self.patterns: tuple[tuple[str, ...], ...] = tuple(patterns)
        self._clitics = tuple(c for c in clitics if c)
        self._cache_size = cache_size
        self._cache: dict[str, frozenset[int]] = {}
        words: dict[str, int] = {}
        ids: list[tuple[int, ...]] = []
        for index, pattern in enumerate(self.patterns):
            if not pattern:
                raise ValueError(f"empty phrase pattern at index {index}")
            ids.append(tuple(words.setdefault(word, len(words)) for word in pattern))
        self._pattern_ids = tuple(ids)
        self._exact = {w: i for w, i in words.items() if not w.endswith(WILDCARD)}
        self._prefix = {w[:-1]: i for w, i in words.items() if w.endswith(WILDCARD)}
        self._min_prefix = max(min((len(stem) for stem in self._prefix), default=1), 1)
        by_head: dict[int, list[int]] = {}
        for index, pattern_ids in enumerate(self._pattern_ids):
            by_head.setdefault(pattern_ids[0], []).append(index)
        self._by_head = {
            head: tuple(sorted(indexes, key=lambda i: -len(self._pattern_ids[i]))) for head, indexes in by_head.items()
        }

    def _word_ids(self, token: str) -> frozenset[int]:
        """Ids of the pattern words this token satisfies (exact, clitic-stripped or prefix)."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        found: set[int] = set()
        exact = self._exact.get(token)
        if exact is not None:
            found.add(exact)
        for clitic in self._clitics:
            if token.endswith(clitic) and len(token) - len(clitic) >= MIN_STEM:
                stem_id = self._exact.get(token[: -len(clitic)])
                if stem_id is not None:
                    found.add(stem_id)
        for cut in range(self._min_prefix, len(token) + 1):
            prefix_id = self._prefix.get(token[:cut])
            if prefix_id is not None:
                found.add(prefix_id)
        result = frozenset(found)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = result
        return result

    def find(self, tokens: Sequence[str]) -> list[PhraseMatch]:
        word_ids = [self._word_ids(token) for token in tokens]
        matches: list[PhraseMatch] = []
        position, total = 0, len(tokens)
        while position < total:
            best_len = 0
            best: list[int] = []
            for head in word_ids[position]:
                for index in self._by_head.get(head, ()):
                    pattern = self._pattern_ids[index]
                    length = len(pattern)
                    if length < best_len:
                        break
                    if position + length > total or not all(
                        pattern[k] in word_ids[position + k] for k in range(1, length)
                    ):
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
