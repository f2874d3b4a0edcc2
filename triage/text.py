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

This runs for every incoming message, so it is written for speed: ``fold`` skips a rewrite when
a cheap test shows it cannot change the text, matchers cache per distinct token what it can
match, and :class:`MatcherGroup` serves several matchers with one scan of the tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

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
# messages need none of them, so ``fold`` skips a rewrite whose condition fails (the output is the
# same either way). Patterns that start with a literal are found by a fast search in ``re``.
_AFTER_HYPHEN_RE = re.compile(r"-([^\W\d_]+)")  # a hyphen and the letters after it
_LETTERS_TWO_RE = re.compile(r"2(?<=[^\W\d_]{2}2)")  # a "2" right after two letters
_TRIPLE_RE = re.compile(r"(?s)(.)\1\1")  # any character three times in a row
_DIGIT_RE = re.compile(r"\d")  # every money amount has a digit


def _redup_hyphen(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    return first if first.endswith(second) else match.group(0)


def _may_have_hyphen_redup(text: str) -> bool:
    """Whether the text before some hyphen ends with the letters after it (``pegang-pegang``)."""
    return any(text.endswith(m.group(1), 0, m.start()) for m in _AFTER_HYPHEN_RE.finditer(text))


def fold(text: str) -> str:
    """Case-fold, undo reduplication, collapse stretched letters, mark money (no tokenising)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if "-" in folded and _may_have_hyphen_redup(folded):
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
        tokens = tokenize(fold(text))
        if self._slang.keys().isdisjoint(tokens):  # the usual case; the check runs in C
            return tuple(tokens)
        return tuple(apply_slang(tokens, self._slang))

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


Candidate = tuple[int, tuple[int, ...]]
"""A pattern that may start at a token: its index and the word ids its other tokens need."""

Span = tuple[int, int, tuple[int, ...]]
"""``(start, end, patterns)``: the longest pattern(s) found at ``start``, all ending at ``end``."""

_V = TypeVar("_V")


def _remember(cache: dict[str, _V], key: str, value: _V, size: int) -> _V:
    """Store ``value`` in a cache that is simply emptied when it reaches ``size`` entries."""
    if len(cache) >= size:
        cache.clear()
    cache[key] = value
    return value


class Heads(NamedTuple):
    """The patterns that can start at one token, split so that the common cases are cheap.

    Both parts keep the order in which the patterns are tried (see :meth:`PhraseMatcher.heads`).
    """

    single: tuple[int, ...]  # one-word patterns: they match wherever the token is
    multi: tuple[Candidate, ...]  # longer patterns
    seconds: frozenset[int]  # word ids of the second tokens of ``multi``, for a quick reject


NO_HEADS = Heads((), (), frozenset())


class PhraseMatcher:
    """Longest-match-first, whole-token phrase matcher over normalised tokens.

    Patterns are token tuples (from :meth:`Normalizer.phrase`). ``find`` scans left to right;
    at each position it takes the longest pattern(s) that match, reports all patterns of that
    length, and skips past them, so a multi-word phrase consumes its tokens.

    Every distinct pattern word gets an id. For each distinct input token, the set of word ids
    it satisfies and the patterns that can start at it are computed once and cached (a cache is
    emptied when it reaches ``cache_size`` entries), so matching is a few look-ups per token.
    """

    __slots__ = (
        "_alone",
        "_by_head",
        "_cache",
        "_cache_size",
        "_clitics",
        "_exact",
        "_heads_cache",
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
        self._heads_cache: dict[str, Heads] = {}
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
        self._alone = MatcherGroup([self], cache_size)

    def word_ids(self, token: str) -> frozenset[int]:
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
        return _remember(self._cache, token, frozenset(found), self._cache_size)

    def heads(self, token: str) -> Heads:
        """The patterns whose first word this token satisfies (``NO_HEADS`` for most tokens).

        They are tried in a fixed order (the word-id set's iteration order, then longest first).
        Equally long matches at one position are reported in that order and callers break ties
        on it, so it must not change.
        """
        cached = self._heads_cache.get(token)
        if cached is not None:
            return cached
        candidates = [
            (index, self._pattern_ids[index][1:])
            for head in self.word_ids(token)
            for index in self._by_head.get(head, ())
        ]
        multi = tuple(c for c in candidates if c[1])
        heads = Heads(
            single=tuple(index for index, tail in candidates if not tail),
            multi=multi,
            seconds=frozenset(tail[0] for _, tail in multi),
        )
        return _remember(self._heads_cache, token, heads if candidates else NO_HEADS, self._cache_size)

    def longest_multi(
        self, multi: Sequence[Candidate], tokens: Sequence[str], start: int, second: frozenset[int]
    ) -> Span | None:
        """The longest of the multi-word candidates ``multi`` matching at ``start`` (all on a tie).

        ``second`` is ``word_ids(tokens[start + 1])``, which rules out most candidates at once.
        """
        best_len = 0
        best: list[int] = []
        room = len(tokens) - start
        for index, tail in multi:
            length = len(tail) + 1
            if length < best_len or length > room or tail[0] not in second:
                continue
            if length > 2 and not all(word in self.word_ids(tokens[start + k]) for k, word in enumerate(tail, 1)):
                continue
            if length > best_len:
                best_len, best = length, [index]
            else:
                best.append(index)
        return (start, start + best_len, tuple(best)) if best_len else None

    def spans(self, tokens: Sequence[str]) -> list[Span]:
        """Like :meth:`find`, as one ``Span`` per matched position (no object per match)."""
        return self._alone.spans(tokens)[0]

    def find(self, tokens: Sequence[str]) -> list[PhraseMatch]:
        return [PhraseMatch(pattern, start, end) for start, end, patterns in self.spans(tokens) for pattern in patterns]


_SlotHeads = tuple[int, PhraseMatcher, tuple[int, ...], tuple[Candidate, ...], frozenset[int]]
"""``(slot, matcher, *heads)``: flat, so the scan unpacks it in one go."""


class _TokenInfo(NamedTuple):
    """What a :class:`MatcherGroup` needs to know about one token, per matcher."""

    word_ids: tuple[frozenset[int], ...]  # indexed by matcher slot
    heads: tuple[_SlotHeads, ...]  # only for the slots where a pattern starts


class MatcherGroup:
    """Several matchers run over the same tokens in one pass.

    ``spans(tokens)[i]`` is what ``matchers[i]`` alone finds: each matcher keeps its own cursor,
    so a phrase still consumes tokens only in its own matcher. What is shared is the work per
    token: one cached look-up for all matchers, and most tokens start no pattern anywhere.
    """

    __slots__ = ("_cache", "_cache_size", "_clitics", "_exact", "_matchers", "_min_prefix", "_nothing", "_prefix")

    def __init__(self, matchers: Sequence[PhraseMatcher], cache_size: int = 50_000) -> None:
        self._matchers = tuple(matchers)
        self._cache_size = cache_size
        self._cache: dict[str, _TokenInfo] = {}
        self._nothing = _TokenInfo(tuple(frozenset() for _ in self._matchers), ())
        # Every matcher's pattern words in one index, so that a token no pattern knows (a name,
        # a number, a typo: most first sightings) costs one pass instead of one per matcher.
        exact: dict[str, set[int]] = {}
        prefix: dict[str, set[int]] = {}
        clitics: dict[str, dict[str, set[int]]] = {}
        for slot, matcher in enumerate(self._matchers):
            for word in matcher._exact:
                exact.setdefault(word, set()).add(slot)
                for clitic in matcher._clitics:
                    clitics.setdefault(clitic, {}).setdefault(word, set()).add(slot)
            for stem in matcher._prefix:
                prefix.setdefault(stem, set()).add(slot)
        self._exact = {word: frozenset(slots) for word, slots in exact.items()}
        self._prefix = {stem: frozenset(slots) for stem, slots in prefix.items()}
        self._clitics = {c: {w: frozenset(slots) for w, slots in words.items()} for c, words in clitics.items()}
        self._min_prefix = max(min((len(stem) for stem in self._prefix), default=1), 1)

    def _slots(self, token: str) -> set[int]:
        """The matchers some pattern word of which this token satisfies (see ``word_ids``)."""
        slots = set(self._exact.get(token, ()))
        for clitic, words in self._clitics.items():
            if token.endswith(clitic) and len(token) - len(clitic) >= MIN_STEM:
                slots.update(words.get(token[: -len(clitic)], ()))
        prefix = self._prefix
        for cut in range(self._min_prefix, len(token) + 1):
            found = prefix.get(token[:cut])
            if found is not None:
                slots.update(found)
        return slots

    def _info(self, token: str) -> _TokenInfo:
        slots = self._slots(token)
        if not slots:
            return _remember(self._cache, token, self._nothing, self._cache_size)
        matchers = self._matchers
        word_ids = tuple(m.word_ids(token) if slot in slots else frozenset() for slot, m in enumerate(matchers))
        heads = tuple(
            (slot, matchers[slot], *heads)
            for slot in sorted(slots)
            if (heads := matchers[slot].heads(token)) is not NO_HEADS
        )
        return _remember(self._cache, token, _TokenInfo(word_ids, heads), self._cache_size)

    def spans(self, tokens: Sequence[str]) -> list[list[Span]]:
        """Each matcher's spans (see :meth:`PhraseMatcher.spans`), in the order of ``matchers``."""
        found: list[list[Span]] = [[] for _ in self._matchers]
        ends = [0] * len(self._matchers)
        cached = self._cache.get
        infos = [cached(token) or self._info(token) for token in tokens]
        infos.append(self._nothing)  # what follows the last token
        for position, info in enumerate(infos):
            for slot, matcher, single, multi, seconds in info.heads:
                if position < ends[slot]:
                    continue  # consumed by a longer match of this matcher
                span = None  # a multi-word match, if any, is longer than the one-word ones
                if multi:
                    second = infos[position + 1].word_ids[slot]
                    if not seconds.isdisjoint(second):
                        span = matcher.longest_multi(multi, tokens, position, second)
                if span is None:
                    if not single:
                        continue
                    span = (position, position + 1, single)
                found[slot].append(span)
                ends[slot] = span[1]
        return found
