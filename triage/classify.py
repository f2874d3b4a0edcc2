"""Rule-based triage: kind, work unit, confidentiality, priority and completeness.

All keyword data lives in ``config/routing.toml``; this module only compiles and applies it.

Decision rules (see the module tests for examples):

* **unit** - each occurrence of a unit rule's phrase adds the rule's weight to its unit
  (ambiguous phrases only count when the same rule has a second signal, see ``RuleConfig``),
  scaled by ``[scoring]``: repeats of a rule decay, early mentions count more. Units below
  ``min_unit_score`` are dropped; sensitive units are boosted; the highest score wins, ties go
  to the unit mentioned first. Nothing left -> ``RoutingConfig.default_unit``.
* **kind** - ``declared_kind`` (from a web form) wins when valid. Otherwise kind rules score the
  same way; a non-default kind must beat the default kind (``pengaduan``) by more than
  ``kind.margin``. With no kind signal at all the default kind is used, or ``kind.empty`` when
  the message has no unit signal and little content either (greetings, "test").
* **confidential** - the unit is sensitive (ppkpt, spi) or a rule with ``confidential = true``
  fired (anonymity requests, self-harm).
* **priority** - ``high`` when the unit is sensitive or a rule with ``priority = "high"`` fired.
* **complete** - the ``[completeness]`` heuristics of the config.
* **rules** - names of the rules that counted, highest total weight first (ties: first
  mentioned), then ``declared_kind`` when it was used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from config.routing import KINDS, RoutingConfig, RuleConfig, ScoringConfig
from triage.text import QUESTION_MARK, MatcherGroup, Normalizer, PhraseMatcher, Span

DECLARED_KIND_RULE = "declared_kind"
_SUBJECT_BREAK = "\x00"
_DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str  # pengaduan | aspirasi | permintaan_informasi
    unit: str  # a unit key from routing.toml
    confidential: bool
    priority: str  # "normal" | "high"
    complete: bool
    rules: tuple[str, ...]  # names of the rules that fired, in order of weight; shown to officers


_PHRASE, _AMBIGUOUS, _CONTEXT = 0, 1, 2


class _Owner(NamedTuple):
    """A rule that owns a phrase in one channel, and the phrase's role in that rule."""

    rule: int
    target: str | None
    role: int


_Hits = list[tuple[int, tuple[_Owner, ...]]]
"""``(start, owners)`` for each matched position in text order: the rules hit there."""


class _Channel:
    """One phrase matcher plus, for each of its patterns, the rules that own it."""

    __slots__ = ("_owners", "matcher")

    def __init__(self, matcher: PhraseMatcher, owners: Sequence[tuple[_Owner, ...]]) -> None:
        self.matcher = matcher
        self._owners = tuple(owners)

    @classmethod
    def build(
        cls,
        normalizer: Normalizer,
        entries: Sequence[tuple[int, str | None, RuleConfig]],
        clitics: Sequence[str],
    ) -> _Channel:
        index: dict[tuple[str, ...], list[_Owner]] = {}
        for rule_index, target, rule in entries:
            roles = ((rule.phrases, _PHRASE), (rule.ambiguous, _AMBIGUOUS), (rule.context, _CONTEXT))
            for phrases, role in roles:
                for phrase in phrases:
                    tokens = normalizer.phrase(phrase)
                    if not tokens:
                        raise ValueError(f"rule {rule.name!r}: phrase {phrase!r} has no words")
                    owners = index.setdefault(tokens, [])
                    owner = _Owner(rule_index, target, role)
                    if owner not in owners:
                        owners.append(owner)
        patterns = list(index)
        return cls(PhraseMatcher(patterns, clitics), [tuple(index[p]) for p in patterns])

    def hits(self, spans: Sequence[Span]) -> _Hits:
        """Rule hits from this channel's matches (``matcher.spans``), in text order."""
        return [(start, self._owners_of(patterns)) for start, _end, patterns in spans]

    def _owners_of(self, patterns: tuple[int, ...]) -> tuple[_Owner, ...]:
        """A rule counts once per position even if two of its patterns match there."""
        if len(patterns) == 1:  # the usual case; ``build`` lists each (rule, role) once per pattern
            return self._owners[patterns[0]]
        merged: dict[tuple[int, int], _Owner] = {}
        for pattern in patterns:
            for owner in self._owners[pattern]:
                merged.setdefault((owner.rule, owner.role), owner)
        return tuple(merged.values())


@dataclass(slots=True)
class _Tally:
    """Scores per target and per rule for one channel."""

    scores: dict[str, float]
    first: dict[str, int]
    rule_scores: dict[int, float]
    rule_first: dict[int, int]


def _tally(hits: _Hits, weights: Sequence[float], scoring: ScoringConfig, length: int = 0) -> _Tally:
    """Add up hits (in text order). ``length`` > 0 turns on the position bonus."""
    tally = _Tally({}, {}, {}, {})
    if not hits:
        return tally
    confirmed = {owner.rule for _start, owners in hits for owner in owners if owner.role != _AMBIGUOUS}
    repeats: dict[int, int] = {}
    decay, bonus = scoring.repeat_decay, scoring.position_bonus
    scores, first, rule_scores, rule_first = tally.scores, tally.first, tally.rule_scores, tally.rule_first
    for start, owners in hits:
        for rule, target, role in owners:
            if role == _CONTEXT or (role == _AMBIGUOUS and rule not in confirmed):
                continue
            seen = repeats.get(rule, 0)
            repeats[rule] = seen + 1
            score = weights[rule] * decay**seen
            if length:
                score *= 1.0 + bonus * (1.0 - start / length)
            rule_scores[rule] = rule_scores.get(rule, 0.0) + score
            rule_first.setdefault(rule, start)
            if target is not None:
                scores[target] = scores.get(target, 0.0) + score
                first.setdefault(target, start)
    return tally


def _best(scores: dict[str, float], first: dict[str, int]) -> str | None:
    if not scores:
        return None
    return max(scores, key=lambda key: (scores[key], -first[key]))


class _Completeness:
    """Compiled ``[completeness]`` heuristics."""

    __slots__ = (
        "_detail",
        "_detail_kinds",
        "_detail_min",
        "_filler",
        "_min_content",
        "_references",
        "vague",
    )

    def __init__(self, routing: RoutingConfig, normalizer: Normalizer, clitics: Sequence[str]) -> None:
        conf = routing.completeness
        self._min_content = conf.min_content_tokens
        self._detail_min = conf.detail_min_tokens
        self._detail_kinds = frozenset(conf.detail_required_for)
        self._filler = frozenset(tok for word in conf.filler for tok in normalizer(word))
        self._filler |= {QUESTION_MARK, _SUBJECT_BREAK}
        self.vague = PhraseMatcher([normalizer.phrase(p) for p in conf.vague_phrases], clitics)
        self._detail = PhraseMatcher([normalizer.phrase(p) for p in conf.detail_phrases], clitics)
        self._references = tuple(re.compile(p, re.IGNORECASE) for p in conf.reference_patterns)

    def content(self, tokens: Sequence[str], vague: Sequence[Span]) -> int:
        """How many tokens carry content (not filler, not inside a ``vague`` span).

        Counted as all tokens minus filler minus the non-filler tokens of the (rare, disjoint)
        vague spans, so that the per-token test runs in C.
        """
        filler = self._filler
        in_vague = sum(tokens[i] not in filler for start, end, _ in vague for i in range(start, end))
        return len(tokens) - sum(map(filler.__contains__, tokens)) - in_vague

    def substantive(self, content: int) -> bool:
        return content >= self._min_content

    def __call__(self, raw: str, tokens: Sequence[str], kind: str, content: int) -> bool:
        # A reference number makes any message complete, but the reference regexes scan the
        # whole text, so they run last: only when the cheaper tests say "incomplete".
        return self._detailed(raw, tokens, kind, content) or any(pattern.search(raw) for pattern in self._references)

    def _detailed(self, raw: str, tokens: Sequence[str], kind: str, content: int) -> bool:
        if not self.substantive(content):
            return False
        if kind not in self._detail_kinds or content >= self._detail_min:
            return True
        return bool(_DIGIT_RE.search(raw)) or bool(self._detail.spans(tokens))


class Classifier:
    """Rule-based classifier compiled from a :class:`RoutingConfig`."""

    __slots__ = (
        "_complete",
        "_confidential",
        "_default_unit",
        "_flags",
        "_kind_conf",
        "_kind_weights",
        "_kinds",
        "_matchers",
        "_names",
        "_normalizer",
        "_priority",
        "_scoring",
        "_sensitive",
        "_units",
        "_weights",
    )

    def __init__(self, routing: RoutingConfig) -> None:
        self._normalizer = Normalizer(routing.slang)
        self._scoring = routing.scoring
        clitics = tuple(routing.clitics)
        rules = routing.rules
        self._names = tuple(r.name for r in rules)
        self._weights = tuple(r.weight for r in rules)
        self._kind_weights = tuple(r.kind_weight or r.weight for r in rules)
        self._confidential = tuple(r.confidential for r in rules)
        self._priority = tuple(r.priority == "high" for r in rules)
        numbered = list(enumerate(rules))
        self._units = _Channel.build(
            self._normalizer,
            [(i, r.unit, r) for i, r in numbered if r.unit is not None],
            clitics,
        )
        self._kinds = _Channel.build(
            self._normalizer,
            [(i, r.kind, r) for i, r in numbered if r.kind is not None],
            clitics,
        )
        self._flags = _Channel.build(
            self._normalizer,
            [(i, None, r) for i, r in numbered if r.unit is None and r.kind is None],
            clitics,
        )
        self._default_unit = routing.default_unit
        self._sensitive = routing.sensitive_units
        self._kind_conf = routing.kind
        self._complete = _Completeness(routing, self._normalizer, clitics)
        # one scan of the tokens serves the three channels and the vague phrases
        self._matchers = MatcherGroup(
            [self._units.matcher, self._kinds.matcher, self._flags.matcher, self._complete.vague]
        )

    def tokens(self, text: str, subject: str = "") -> tuple[str, ...]:
        """The normalised tokens the rules see (subject first, never joined to the body)."""
        body = self._normalizer(text)
        if not subject.strip():
            return body
        return (*self._normalizer(subject), _SUBJECT_BREAK, *body)

    def classify(self, text: str, subject: str = "", declared_kind: str | None = None) -> Classification:
        tokens = self.tokens(text, subject)
        unit_spans, kind_spans, flag_spans, vague_spans = self._matchers.spans(tokens)
        units = _tally(self._units.hits(unit_spans), self._weights, self._scoring, len(tokens))
        kinds = _tally(self._kinds.hits(kind_spans), self._kind_weights, self._scoring)
        flags = _tally(self._flags.hits(flag_spans), self._weights, self._scoring)
        unit = self._decide_unit(units)
        content = self._complete.content(tokens, vague_spans)
        declared = declared_kind if declared_kind in KINDS else None
        substantive = bool(units.scores) or self._complete.substantive(content)
        kind = declared or self._decide_kind(kinds, substantive=substantive)
        fired = self._fired(units, kinds, flags)
        sensitive = unit in self._sensitive
        names = tuple(self._names[i] for i in fired)
        return Classification(
            kind=kind,
            unit=unit,
            confidential=sensitive or any(self._confidential[i] for i in fired),
            priority="high" if sensitive or any(self._priority[i] for i in fired) else "normal",
            complete=self._complete(f"{subject}\n{text}", tokens, kind, content),
            rules=names + ((DECLARED_KIND_RULE,) if declared else ()),
        )

    def _decide_unit(self, units: _Tally) -> str:
        """Highest boosted score among units whose raw score reaches ``min_unit_score``."""
        scoring = self._scoring
        scores = {
            unit: score * (scoring.sensitive_boost if unit in self._sensitive else 1.0)
            for unit, score in units.scores.items()
            if score >= scoring.min_unit_score
        }
        return _best(scores, units.first) or self._default_unit

    def _decide_kind(self, kinds: _Tally, *, substantive: bool) -> str:
        conf = self._kind_conf
        if not kinds.scores:
            return conf.default if substantive else conf.empty
        default_score = kinds.scores.get(conf.default, 0.0)
        challengers = {k: v for k, v in kinds.scores.items() if k != conf.default}
        best = _best(challengers, kinds.first)
        if best is not None and challengers[best] > default_score + conf.margin:
            return best
        return conf.default

    @staticmethod
    def _fired(*tallies: _Tally) -> list[int]:
        total: dict[int, float] = {}
        first: dict[int, int] = {}
        for tally in tallies:
            for rule, score in tally.rule_scores.items():
                total[rule] = total.get(rule, 0.0) + score
                first[rule] = min(first.get(rule, tally.rule_first[rule]), tally.rule_first[rule])
        return sorted(total, key=lambda rule: (-total[rule], first[rule]))
