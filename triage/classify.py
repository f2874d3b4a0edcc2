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
* **confidential** - the unit is sensitive (``sensitive = true`` in the routing file) or a rule
  with ``confidential = true`` fired (a wish for secrecy, self-harm).
* **co-occurrence** - a rule with ``together`` word families counts once when each family has a
  word in the message (within ``window`` tokens when set): "dosen" + "chat tengah malam",
  "uang" + "minta" + "biar cepat". Its words are matched apart from the phrases, so they never
  take words from a phrase; the reasons list the word of each family.
* **negation** - a hit of a ``negatable`` rule right after a ``[negation]`` word does not count
  ("tidak ada pungli kok" accuses no one), nor does the same phrase where the message repeats it
  ("banyak yang ngira itu pungli, padahal tidak ada pungli"); the reasons say what was cancelled.
* **priority** - ``high`` when the unit is sensitive or a rule with ``priority = "high"`` fired.
* **complete** - the ``[completeness]`` heuristics of the config.
* **rules** - names of the rules that counted, highest total weight first (ties: first
  mentioned), then ``declared_kind`` when it was used; **reasons** - the same with the words.

What the stage makes of this (confidential, anonymous, urgent, missing contents) is decided in
``triage/assessment.py``, which the ``satupintu triage`` commands use too.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from config.routing import KINDS, RoutingConfig, RuleConfig, ScoringConfig
from triage.text import QUESTION_MARK, MatcherGroup, Normalizer, PhraseMatcher, Span

DECLARED_KIND_RULE = "declared_kind"
REFERENCE_RULE = "nomor_tiket"
EXCEPTED_RULE = "kecuali"
"""The reason given for a rule an ``unless`` word cancelled."""
INFORMATION = "permintaan_informasi"
_SUBJECT_BREAK = "\x00"
_DIGIT_RE = re.compile(r"\d")
_REFERENCE_ONLY_TOKENS = 12


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str  # pengaduan | aspirasi | permintaan_informasi
    unit: str  # a unit key from routing.toml
    confidential: bool
    priority: str  # "normal" | "high"
    complete: bool
    rules: tuple[str, ...]  # names of the rules that fired, in order of weight; shown to officers
    reasons: tuple[str, ...] = ()
    """``rule: words`` for each rule in ``rules``, then ``negasi: words`` for each disclosure a
    negation cancelled ("tidak ada pungli") and ``kecuali: rule: word`` for each rule an
    ``unless`` word cancelled: the words of the message that decided."""


_PHRASE, _AMBIGUOUS, _CONTEXT = 0, 1, 2
_FAMILY = 3
"""Roles ``_FAMILY + k``: a word of a rule's ``together`` family ``k``."""


class _Owner(NamedTuple):
    """A rule that owns a phrase in one channel, and the phrase's role in that rule."""

    rule: int
    target: str | None
    role: int


_Hits = list[tuple[int, int, tuple[_Owner, ...]]]
"""``(start, end, owners)`` for each matched position in text order: the rules hit there."""


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
        *,
        words: Literal["phrases", "together", "unless"] = "phrases",
    ) -> _Channel:
        """The phrases of ``entries``, or their ``together`` or ``unless`` words."""
        index: dict[tuple[str, ...], list[_Owner]] = {}
        for rule_index, target, rule in entries:
            roles: Sequence[tuple[Sequence[str], int]]
            if words == "together":
                roles = [(family, _FAMILY + k) for k, family in enumerate(rule.together)]
            elif words == "unless":
                roles = [(rule.unless, _PHRASE)]
            else:
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
        return [(start, end, self._owners_of(patterns)) for start, end, patterns in spans]

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
    """Scores per target and per rule for one channel; ``spans``: where each rule counted."""

    scores: dict[str, float]
    first: dict[str, int]
    rule_scores: dict[int, float]
    rule_first: dict[int, int]
    spans: dict[int, list[tuple[int, int]]]


def _tally(
    hits: _Hits,
    weights: Sequence[float],
    scoring: ScoringConfig,
    length: int = 0,
    negated: Container[int] = frozenset(),
    negatable: Sequence[bool] = (),
) -> _Tally:
    """Add up hits (in text order). ``length`` > 0 turns on the position bonus. A hit of a
    ``negatable`` rule that starts at a ``negated`` position does not count at all."""
    tally = _Tally({}, {}, {}, {}, {})
    if not hits:
        return tally
    if negated:
        hits = [
            (start, end, kept)
            for start, end, owners in hits
            if (kept := tuple(o for o in owners if not (start in negated and negatable[o.rule])))
        ]
    confirmed = {owner.rule for _start, _end, owners in hits for owner in owners if owner.role != _AMBIGUOUS}
    repeats: dict[int, int] = {}
    decay, bonus = scoring.repeat_decay, scoring.position_bonus
    scores, first, rule_scores, rule_first = tally.scores, tally.first, tally.rule_scores, tally.rule_first
    spans = tally.spans
    for start, end, owners in hits:
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
            spans.setdefault(rule, []).append((start, end))
            if target is not None:
                scores[target] = scores.get(target, 0.0) + score
                first.setdefault(target, start)
    return tally


def _best(scores: dict[str, float], first: dict[str, int]) -> str | None:
    if not scores:
        return None
    return max(scores, key=lambda key: (scores[key], -first[key]))


def _within(families: dict[int, list[tuple[int, int]]], window: int | None) -> list[tuple[int, int]]:
    """One hit of each family, all starting within ``window`` tokens (the earliest such set);
    without a window, each family's first hit. Empty when no such set exists."""
    if window is None:
        return [spans[0] for spans in families.values()]
    for first, _end in sorted(span for spans in families.values() for span in spans):
        chosen = [next((s for s in spans if first <= s[0] <= first + window), None) for spans in families.values()]
        if all(chosen):
            return [s for s in chosen if s is not None]
    return []


class _Completeness:
    """Compiled ``[completeness]`` heuristics."""

    __slots__ = (
        "_detail",
        "_detail_kinds",
        "_detail_min",
        "_filler",
        "_min_content",
        "_normalizer",
        "_references",
        "vague",
    )

    def __init__(self, routing: RoutingConfig, normalizer: Normalizer, clitics: Sequence[str]) -> None:
        conf = routing.completeness
        self._min_content = conf.min_content_tokens
        self._detail_min = conf.detail_min_tokens
        self._detail_kinds = frozenset(conf.detail_required_for)
        self._normalizer = normalizer
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

    def reference_only(self, raw: str, tokens: Sequence[str]) -> str | None:
        """The reference number when the message is nothing but one (and greetings): a status
        question about that case, whatever the number's letters happen to match."""
        if len(tokens) > _REFERENCE_ONLY_TOKENS:
            return None
        for pattern in self._references:
            found = pattern.search(raw)
            if found is not None:
                rest = raw[: found.start()] + " " + raw[found.end() :]
                if all(token in self._filler for token in self._normalizer(rest)):
                    return found.group(0)
        return None

    def substantive(self, content: int) -> bool:
        return content >= self._min_content

    def __call__(self, raw: str, tokens: Sequence[str], kind: str, content: int, *, asks: bool = False) -> bool:
        """``asks``: a question word about a named topic ("kapan wisuda?"): a short question
        that says what it wants to know is complete, though it has few words."""
        # A reference number makes any message complete, but the reference regexes scan the
        # whole text, so they run last: only when the cheaper tests say "incomplete".
        return self._detailed(raw, tokens, kind, content, asks) or any(
            pattern.search(raw) for pattern in self._references
        )

    def _detailed(self, raw: str, tokens: Sequence[str], kind: str, content: int, asks: bool) -> bool:
        if not (self.substantive(content) or asks):
            return False
        if kind not in self._detail_kinds or content >= self._detail_min:
            return True
        return bool(_DIGIT_RE.search(raw)) or bool(self._detail.spans(tokens))


class _Negation:
    """Where a negation cancels the disclosure after it ("tidak ada pungli", "bukan pelecehan").

    A negation phrase cancels a hit of a ``negatable`` rule that starts right after it, or after
    it and a few ``gap`` words ("tidak ada *yang* pungli"). ``exceptions`` are longer phrases that
    negate nothing ("bukan hanya pungli", "tidak berhenti"); the longest match wins, so they
    swallow the negation word inside them.
    """

    __slots__ = ("_exception", "_gap", "matcher")

    def __init__(self, routing: RoutingConfig, normalizer: Normalizer, clitics: Sequence[str]) -> None:
        conf = routing.negation
        words = [normalizer.phrase(p) for p in conf.words]
        exceptions = [normalizer.phrase(p) for p in conf.exceptions]
        self.matcher = PhraseMatcher(words + exceptions, clitics)
        self._exception = frozenset(range(len(words), len(words) + len(exceptions)))
        self._gap = frozenset(token for word in conf.gap for token in normalizer(word))

    def positions(self, tokens: Sequence[str], spans: Sequence[Span]) -> dict[int, int]:
        """Positions a negation reaches, each with where its negation phrase starts."""
        reached: dict[int, int] = {}
        for start, end, patterns in spans:
            if not self._exception.isdisjoint(patterns):  # "bukannya" is an exception, not "bukan" + -nya
                continue
            position = end
            reached.setdefault(position, start)
            while position < len(tokens) and tokens[position] in self._gap:
                position += 1
                reached.setdefault(position, start)
        return reached


class Classifier:
    """Rule-based classifier compiled from a :class:`RoutingConfig`."""

    __slots__ = (
        "_complete",
        "_confidential",
        "_default_unit",
        "_families",
        "_flags",
        "_kind_conf",
        "_kind_weights",
        "_kinds",
        "_matchers",
        "_names",
        "_negatable",
        "_negation",
        "_normalizer",
        "_priority",
        "_scoring",
        "_sensitive",
        "_targets",
        "_together",
        "_units",
        "_unless",
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
        self._negatable = tuple(r.negatable for r in rules)
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
        # one matcher per co-occurrence rule, so that no rule's words take another's
        self._together = tuple(
            _Channel.build(self._normalizer, [(i, r.unit, r)], clitics, words="together")
            for i, r in numbered
            if r.together
        )
        self._families = tuple((len(r.together), r.window) for r in rules)
        self._unless = _Channel.build(
            self._normalizer, [(i, None, r) for i, r in numbered if r.unless], clitics, words="unless"
        )
        self._targets = tuple((r.unit, r.kind) for r in rules)
        self._default_unit = routing.default_unit
        self._sensitive = routing.sensitive_units
        self._kind_conf = routing.kind
        self._complete = _Completeness(routing, self._normalizer, clitics)
        self._negation = _Negation(routing, self._normalizer, clitics)
        # one scan of the tokens serves the three channels, the vague phrases and the negations
        self._matchers = MatcherGroup(
            [
                self._units.matcher,
                self._kinds.matcher,
                self._flags.matcher,
                self._complete.vague,
                self._negation.matcher,
                self._unless.matcher,
                *(channel.matcher for channel in self._together),
            ]
        )

    def tokens(self, text: str, subject: str = "") -> tuple[str, ...]:
        """The normalised tokens the rules see (subject first, never joined to the body)."""
        body = self._normalizer(text)
        if not subject.strip():
            return body
        return (*self._normalizer(subject), _SUBJECT_BREAK, *body)

    def classify(self, text: str, subject: str = "", declared_kind: str | None = None) -> Classification:
        tokens = self.tokens(text, subject)
        reference = self._complete.reference_only(f"{subject}\n{text}", tokens)
        if reference is not None:
            return self._status_question(reference, declared_kind)
        spans = self._matchers.spans(tokens)
        unit_spans, kind_spans, flag_spans, vague_spans, negation_spans, unless_spans, *family_spans = spans
        negated = self._negation.positions(tokens, negation_spans) if negation_spans else {}
        unit_hits = self._units.hits(unit_spans)
        kind_hits = self._kinds.hits(kind_spans)
        flag_hits = self._flags.hits(flag_spans)
        if negated:
            negated = self._negated_throughout(tokens, negated, unit_hits + kind_hits + flag_hits)
        family_hits = [
            hit for channel, found in zip(self._together, family_spans, strict=True) for hit in channel.hits(found)
        ]
        excepted: list[str] = []
        if unless_spans:
            unless = self._unless.hits(unless_spans)
            unit_hits, kind_hits, flag_hits, family_hits, excepted = self._excepted(
                tokens, unless, unit_hits, kind_hits, flag_hits, family_hits
            )
        together = self._co_occurring(family_hits, negated) if family_hits else {}
        if together:
            unit_hits, kind_hits, flag_hits = self._with_together(together, unit_hits, kind_hits, flag_hits)
        cancel = (negated, self._negatable)
        units = _tally(unit_hits, self._weights, self._scoring, len(tokens), *cancel)
        kinds = _tally(kind_hits, self._kind_weights, self._scoring, 0, *cancel)
        flags = _tally(flag_hits, self._weights, self._scoring, 0, *cancel)
        for rule, used in together.items():  # the reasons show a word of each family
            for tally in (units, kinds, flags):
                if rule in tally.spans:
                    tally.spans[rule] = used
        unit = self._decide_unit(units)
        content = self._complete.content(tokens, vague_spans)
        declared = declared_kind if declared_kind in KINDS else None
        substantive = bool(units.scores) or self._complete.substantive(content)
        kind = declared or self._decide_kind(kinds, substantive=substantive)
        fired = self._fired(units, kinds, flags)
        sensitive = unit in self._sensitive
        names = tuple(self._names[i] for i in fired)
        reasons = tuple(self._reason(rule, tokens, units, kinds, flags) for rule in fired)
        if negated:
            cancelled = unit_hits + kind_hits + flag_hits
            if family_hits:  # a family word counts as cancelled when its rule would have fired
                fired_unnegated = self._co_occurring(family_hits, ())
                cancelled += [hit for hit in family_hits if any(o.rule in fired_unnegated for o in hit[2])]
            reasons += self._cancelled(tokens, negated, cancelled)
        reasons += tuple(excepted)
        declared_rule = (DECLARED_KIND_RULE,) if declared else ()
        asks = bool(units.scores) and self._asks(tokens, kind_hits, vague_spans)
        return Classification(
            kind=kind,
            unit=unit,
            confidential=sensitive or any(self._confidential[i] for i in fired),
            priority="high" if sensitive or any(self._priority[i] for i in fired) else "normal",
            complete=self._complete(f"{subject}\n{text}", tokens, kind, content, asks=asks),
            rules=names + declared_rule,
            reasons=reasons + tuple(f"{DECLARED_KIND_RULE}: {kind}" for _ in declared_rule),
        )

    def _negated_throughout(self, tokens: Sequence[str], negated: dict[int, int], hits: _Hits) -> dict[int, int]:
        """A phrase the writer negates ("tidak ada pungli kok") is cancelled where the message repeats
        it as others' words too ("banyak yang mengira itu pungli"): the writer accuses no one."""
        said: dict[tuple[str, ...], int] = {}
        for start, end, owners in hits:
            if start in negated and any(self._negatable[owner.rule] for owner in owners):
                said.setdefault(tuple(tokens[start:end]), negated[start])
        if not said:
            return negated
        again = {start: said[words] for start, end, _ in hits if (words := tuple(tokens[start:end])) in said}
        return {**again, **negated}

    def _excepted(
        self, tokens: Sequence[str], unless: _Hits, *channels: _Hits
    ) -> tuple[_Hits, _Hits, _Hits, _Hits, list[str]]:
        """The hit lists without the rules an ``unless`` word cancels, and a reason for each of
        those that had a hit ("kecuali: rahasia.jangan_diketahui: kejutan")."""
        words: dict[int, str] = {}
        for start, end, owners in unless:
            for owner in owners:
                words.setdefault(owner.rule, " ".join(tokens[start:end]))
        had: set[int] = set()
        kept: list[_Hits] = []
        for hits in channels:
            remaining: _Hits = []
            for start, end, owners in hits:
                left = tuple(o for o in owners if o.rule not in words)
                had.update(o.rule for o in owners if o.rule in words)
                if left:
                    remaining.append((start, end, left))
            kept.append(remaining)
        reasons = [f"{EXCEPTED_RULE}: {self._names[rule]}: {words[rule]}" for rule in sorted(had)]
        return kept[0], kept[1], kept[2], kept[3], reasons

    def _co_occurring(self, hits: _Hits, negated: Container[int]) -> dict[int, list[tuple[int, int]]]:
        """The ``together`` rules whose every family has a (not negated) word, and those words."""
        found: dict[int, dict[int, list[tuple[int, int]]]] = {}
        for start, end, owners in hits:
            for owner in owners:
                if start in negated and self._negatable[owner.rule]:
                    continue
                found.setdefault(owner.rule, {}).setdefault(owner.role - _FAMILY, []).append((start, end))
        together: dict[int, list[tuple[int, int]]] = {}
        for rule, families in found.items():
            count, window = self._families[rule]
            if len(families) == count and (used := _within(families, window)):
                together[rule] = sorted(used)
        return together

    def _with_together(
        self, together: dict[int, list[tuple[int, int]]], *channels: _Hits
    ) -> tuple[_Hits, _Hits, _Hits]:
        """The hit lists with one hit per co-occurring rule, at its first word, in text order."""
        unit_hits, kind_hits, flag_hits = (list(hits) for hits in channels)
        for rule, used in together.items():
            start, end = used[0]
            unit, kind = self._targets[rule]
            if unit is not None:
                unit_hits.append((start, end, (_Owner(rule, unit, _PHRASE),)))
            if kind is not None:
                kind_hits.append((start, end, (_Owner(rule, kind, _PHRASE),)))
            if unit is None and kind is None:
                flag_hits.append((start, end, (_Owner(rule, None, _PHRASE),)))
        for hits in (unit_hits, kind_hits, flag_hits):
            hits.sort(key=lambda hit: hit[0])
        return unit_hits, kind_hits, flag_hits

    def _status_question(self, reference: str, declared_kind: str | None) -> Classification:
        """A message that is only a tracking number: it asks after that case (tie-break rule 9)."""
        declared = declared_kind if declared_kind in KINDS else None
        return Classification(
            kind=declared or self._kind_conf.empty,
            unit=self._default_unit,
            confidential=False,
            priority="normal",
            complete=True,
            rules=(REFERENCE_RULE,) + ((DECLARED_KIND_RULE,) if declared else ()),
            reasons=(f"{REFERENCE_RULE}: {reference}",) + ((f"{DECLARED_KIND_RULE}: {declared}",) if declared else ()),
        )

    @staticmethod
    def _asks(tokens: Sequence[str], kind_hits: _Hits, vague: Sequence[Span]) -> bool:
        """Whether a question word ("kapan", "syarat", "berapa") stands outside the vague phrases
        ("mau tanya soal ..."); a bare "?" does not count."""
        inside = {i for start, end, _ in vague for i in range(start, end)}
        return any(
            start not in inside
            and tokens[start] != QUESTION_MARK
            and any(o.target == INFORMATION and o.role == _PHRASE for o in owners)
            for start, _end, owners in kind_hits
        )

    def _reason(self, rule: int, tokens: Sequence[str], *tallies: _Tally) -> str:
        """``rule: word, word``: the distinct words that made the rule count (at most four)."""
        words: list[str] = []
        for tally in tallies:
            for start, end in tally.spans.get(rule, ()):
                phrase = " ".join(tokens[start:end])
                if phrase not in words:
                    words.append(phrase)
        return f"{self._names[rule]}: {', '.join(words[:4])}"

    def _cancelled(self, tokens: Sequence[str], negated: dict[int, int], hits: _Hits) -> tuple[str, ...]:
        """``negasi: tidak ada pungli`` for each negatable hit a negation cancelled."""
        found: list[str] = []
        for start, end, owners in hits:
            if start in negated and any(self._negatable[o.rule] for o in owners):
                reason = "negasi: " + " ".join(tokens[negated[start] : end])
                if reason not in found:
                    found.append(reason)
        return tuple(found)

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
