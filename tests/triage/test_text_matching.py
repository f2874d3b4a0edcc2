"""The fast paths of ``triage.text`` against plain reference implementations.

``fold`` skips rewrites that cannot apply and the matchers cache per token and share one scan;
these tests pin that the shortcuts never change a result.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence

import pytest

from config.routing import DEFAULT_ROUTING_PATH, RoutingConfig, load_routing
from triage import text
from triage.text import MIN_STEM, WILDCARD, MatcherGroup, Normalizer, PhraseMatcher, fold


@pytest.fixture(scope="module")
def routing() -> RoutingConfig:
    return load_routing(DEFAULT_ROUTING_PATH)


# -- fold --------------------------------------------------------------------------------------


def fold_every_rewrite(raw: str) -> str:
    """``fold`` as specified: every rewrite runs, in order, whether or not it can match."""
    folded = unicodedata.normalize("NFKC", raw).casefold()
    folded = text._REDUP_HYPHEN_RE.sub(text._redup_hyphen, folded)
    folded = text._REDUP_DIGIT_RE.sub(r"\1", folded)
    folded = text._REPEAT_RE.sub(r"\1", folded)
    folded = text._MONEY_RE.sub(f" {text.MONEY_TOKEN} ", folded)
    return text._QUESTION_RUN_RE.sub(text.QUESTION_MARK, folded)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("pegang-pegang", "pegang"),
        ("dia dipegang-pegang terus", "dia dipegang terus"),
        ("e-learning dan kip-k", "e-learning dan kip-k"),
        ("ruang e-203", "ruang e-203"),
        ("kuliah2 x2 2022", "kuliah x2 2022"),
        ("150rbbb", " uang "),  # stretched letters collapse before money is marked
        ("nim 2012345678 ruang a1.05", "nim 2012345678 ruang a1.05"),
        ("bayar rp 500.000 ke panitia", "bayar  uang  ke panitia"),
        ("kenapa?? ...", "kenapa? ..."),
    ],
)
def test_fold_examples(raw: str, folded: str) -> None:
    assert fold(raw) == folded == fold_every_rewrite(raw)


def test_fold_equals_running_every_rewrite() -> None:
    rng = random.Random(20261129)
    pieces = [
        *"abkrpjtu2-?_ .,\n0123456789",
        *["rp", "rb", "jt", "juta", "ribu", "rupiah", "k", "aaa", "pegang-pegang", "kuliah2", "Rp.", "ＡＣ", "ﬁ", "٣"],
    ]
    for _ in range(20_000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randrange(25)))
        assert fold(raw) == fold_every_rewrite(raw), raw


# -- phrase matching ---------------------------------------------------------------------------


def word_matches(word: str, token: str, clitics: Sequence[str]) -> bool:
    if word.endswith(WILDCARD):
        return token.startswith(word[:-1])
    return token == word or any(
        c and token.endswith(c) and len(token) - len(c) >= MIN_STEM and token[: -len(c)] == word for c in clitics
    )


class Reference:
    """Longest match first, written plainly: at each position, try every pattern."""

    def __init__(self, patterns: Sequence[tuple[str, ...]], clitics: Sequence[str]) -> None:
        self.patterns = patterns
        self.clitics = clitics
        self.words = {word for pattern in patterns for word in pattern}
        self.matched: dict[str, set[str]] = {}  # token -> pattern words it satisfies

    def words_of(self, token: str) -> set[str]:
        if token not in self.matched:
            self.matched[token] = {w for w in self.words if word_matches(w, token, self.clitics)}
        return self.matched[token]

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int, set[int]]]:
        words = [self.words_of(token) for token in tokens]
        found: list[tuple[int, int, set[int]]] = []
        position = 0
        while position < len(tokens):
            matching = [
                (len(pattern), index)
                for index, pattern in enumerate(self.patterns)
                if pattern[0] in words[position]
                and position + len(pattern) <= len(tokens)
                and all(word in words[position + k] for k, word in enumerate(pattern))
            ]
            if not matching:
                position += 1
                continue
            length = max(n for n, _ in matching)
            found.append((position, position + length, {i for n, i in matching if n == length}))
            position += length
        return found


def as_sets(spans: Sequence[tuple[int, int, tuple[int, ...]]]) -> list[tuple[int, int, set[int]]]:
    return [(start, end, set(patterns)) for start, end, patterns in spans]


def config_patterns(routing: RoutingConfig) -> list[list[tuple[str, ...]]]:
    """Pattern lists like the classifier's channels, from the shipped config."""
    normalize = Normalizer(routing.slang)
    by_target: dict[str, list[tuple[str, ...]]] = {"unit": [], "kind": [], "flag": []}
    for rule in routing.rules:
        channel = "unit" if rule.unit else "kind" if rule.kind else "flag"
        for phrase in (*rule.phrases, *rule.ambiguous, *rule.context):
            tokens = normalize.phrase(phrase)
            if tokens not in by_target[channel]:
                by_target[channel].append(tokens)
    vague = [normalize.phrase(p) for p in routing.completeness.vague_phrases]
    return [*by_target.values(), vague]


def random_tokens(rng: random.Random, patterns: Sequence[tuple[str, ...]], clitics: Sequence[str]) -> list[str]:
    """Whole phrases, cut-off phrases and single phrase words, some with a suffix, plus filler."""
    tokens: list[str] = []
    while len(tokens) < 12:
        pattern = rng.choice(patterns)
        roll = rng.random()
        if roll < 0.4:
            words = list(pattern)
        elif roll < 0.6:
            words = list(pattern[: rng.randrange(1, len(pattern) + 1)])
        elif roll < 0.85:
            words = [rng.choice(pattern)]
        else:
            words = [rng.choice(["yang", "ke", "?", "x", "12"])]
        for word in words:
            token = word.rstrip(WILDCARD)
            if word.endswith(WILDCARD) or rng.random() < 0.1:
                token += rng.choice(["", "kan", "an", *clitics])
            tokens.append(token)
    return tokens


def test_matchers_agree_with_a_plain_reference(routing: RoutingConfig) -> None:
    clitics = tuple(routing.clitics)
    pattern_lists = config_patterns(routing)
    matchers = [PhraseMatcher(patterns, clitics) for patterns in pattern_lists]
    tiny = [PhraseMatcher(patterns, clitics, cache_size=3) for patterns in pattern_lists]  # evicts all the time
    group = MatcherGroup(matchers)
    references = [Reference(patterns, clitics) for patterns in pattern_lists]
    every_pattern = [pattern for patterns in pattern_lists for pattern in patterns]
    rng = random.Random(7)
    long_spans = ties = 0
    for _ in range(600):
        tokens = random_tokens(rng, every_pattern, clitics)
        together = group.spans(tokens)
        for slot, reference in enumerate(references):
            alone = matchers[slot].spans(tokens)
            assert as_sets(alone) == reference.spans(tokens), tokens
            assert together[slot] == alone  # same spans, same order of tied patterns
            assert tiny[slot].spans(tokens) == alone
            assert [(m.pattern, m.start, m.end) for m in matchers[slot].find(tokens)] == [
                (pattern, start, end) for start, end, tied in alone for pattern in tied
            ]
            long_spans += sum(end - start > 1 for start, end, _ in alone)
            ties += sum(len(tied) > 1 for _, _, tied in alone)
    assert long_spans > 300  # the sample does exercise multi-word phrases and ties
    assert ties > 20


def test_matchers_in_a_group_do_not_block_each_other() -> None:
    normalize = Normalizer({})
    fees = PhraseMatcher([normalize.phrase("biaya wisuda")])
    academic = PhraseMatcher([normalize.phrase("wisuda"), normalize.phrase("jadwal wisuda")])
    tokens = normalize("biaya wisuda dan jadwal wisuda")
    assert MatcherGroup([fees, academic]).spans(tokens) == [[(0, 2, (0,))], [(1, 2, (0,)), (3, 5, (1,))]]


def test_tied_patterns_are_all_reported_at_one_position() -> None:
    normalize = Normalizer({})
    matcher = PhraseMatcher([normalize.phrase("rahasia"), normalize.phrase("rahasia*"), normalize.phrase("ra*")])
    assert as_sets(matcher.spans(normalize("tolong dirahasiakan, ini rahasia"))) == [(3, 4, {0, 1, 2})]
    assert as_sets(matcher.spans(["rahasianya"])) == [(0, 1, {1, 2})]
