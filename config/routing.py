"""Routing configuration: work units, keyword rules and slang, loaded from ``routing.toml``.

The TOML file is data only; these pydantic v2 models validate it. Cross-reference errors name
the offending rule and key, e.g. ``rule 'roads.potholes' targets unknown unit 'road'``.
"""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS: tuple[str, ...] = ("pengaduan", "aspirasi", "permintaan_informasi")
PRIORITIES: tuple[str, ...] = ("normal", "high")
DEFAULT_ROUTING_PATH = Path(__file__).with_name("routing.toml")

Kind = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
Priority = Literal["normal", "high"]

_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
_RULE_NAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"


class RoutingConfigError(ValueError):
    """``routing.toml`` could not be read or failed validation."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class UnitConfig(_Strict):
    """A work unit (*unit kerja*) that cases are routed to."""

    key: str = Field(pattern=_KEY_PATTERN)
    name: str = Field(min_length=1)
    email: str | None = None
    sensitive: bool = False
    officers: list[str] = Field(default_factory=list)
    """Who a case of this unit can be assigned to; empty: anyone the ULT names."""
    aliases: list[str] = Field(default_factory=list)
    """Other names a label file may give the unit (``triage eval``); ``*`` matches any words:
    ``"Kelurahan *"``."""


def _clean_phrases(phrases: list[str], field: str) -> list[str]:
    cleaned = [" ".join(p.split()) for p in phrases]
    for phrase in cleaned:
        if not phrase or phrase.strip("*") == "":
            raise ValueError(f"{field} contains an empty phrase")
    return cleaned


class RuleConfig(_Strict):
    """A keyword rule.

    A rule adds ``weight`` to its ``unit`` and/or ``kind`` each time one of its ``phrases``
    occurs; ``confidential`` / ``priority`` apply whenever it fires. Phrases listed in
    ``ambiguous`` (``kkn``, ``sp``, ``ta``, ``do``, ``ks``, ``sh``) only count when the same rule
    has a second signal: one of its ``phrases`` or one of its ``context`` phrases. ``context``
    phrases only confirm; they add no weight and never fire the rule on their own.

    ``together`` lists word families (a person of authority, a contact word, ...): the rule
    counts once, with its full weight, when every family has a word in the message, within
    ``window`` tokens of each other when ``window`` is set. That is how harm or a demand told
    in ordinary words is recognised without one phrase for each way of telling it.

    ``unless`` words, anywhere in the message, cancel the rule: the same words in another
    situation ("jangan bilang siapa-siapa" of a surprise party).
    """

    name: str = Field(pattern=_RULE_NAME_PATTERN)
    unit: str | None = None
    kind: Kind | None = None
    phrases: list[str] = Field(default_factory=list)
    ambiguous: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    together: list[list[str]] = Field(default_factory=list)
    window: int | None = Field(default=None, gt=0)
    unless: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)
    kind_weight: float | None = Field(
        default=None, gt=0, description="weight towards `kind` when it differs from `weight`"
    )
    confidential: bool = False
    priority: Priority = "normal"
    negatable: bool = False
    """A negation right before a phrase cancels that hit ("tidak ada pungli" accuses no one)."""
    description: str = ""

    @field_validator("phrases", "ambiguous", "context", "unless")
    @classmethod
    def _phrases_not_empty(cls, value: list[str]) -> list[str]:
        return _clean_phrases(value, "phrase list")

    @field_validator("together")
    @classmethod
    def _families(cls, value: list[list[str]]) -> list[list[str]]:
        if value and len(value) < 2:
            raise ValueError("'together' needs at least two word families")
        for family in value:
            if not family:
                raise ValueError("'together' has an empty word family")
        return [_clean_phrases(family, "word family") for family in value]

    @model_validator(mode="after")
    def _has_effect(self) -> RuleConfig:
        if not self.phrases and not self.ambiguous and not self.together:
            raise ValueError(f"rule {self.name!r} has no phrases")
        if self.window is not None and not self.together:
            raise ValueError(f"rule {self.name!r}: window is set but together is not")
        if self.ambiguous and not (self.phrases or self.context):
            raise ValueError(f"rule {self.name!r}: ambiguous phrases need 'phrases' or 'context' to confirm them")
        if self.kind_weight is not None and self.kind is None:
            raise ValueError(f"rule {self.name!r}: kind_weight is set but kind is not")
        no_target = self.unit is None and self.kind is None
        if no_target and not self.confidential and self.priority == "normal":
            raise ValueError(f"rule {self.name!r} has no effect: set unit, kind, confidential or priority")
        return self


class CompletenessConfig(_Strict):
    """Heuristics for ``complete`` (is there enough to act on?).

    A message is complete when it matches a ``reference_patterns`` regex (a ticket number), or
    when it has at least ``min_content_tokens`` content tokens (tokens neither in ``filler``
    nor inside a ``vague_phrases`` phrase) and, for the kinds in ``detail_required_for``
    (complaints need a room, a course, a place...), a detail: ``detail_min_tokens`` content
    tokens, a digit, or a ``detail_phrases`` phrase.
    """

    min_content_tokens: int = Field(default=4, ge=0)
    detail_min_tokens: int = Field(default=12, ge=0)
    detail_required_for: list[Kind] = Field(default_factory=lambda: list[Kind](["pengaduan"]))
    filler: list[str] = Field(default_factory=list)
    vague_phrases: list[str] = Field(default_factory=list)
    detail_phrases: list[str] = Field(default_factory=list)
    reference_patterns: list[str] = Field(default_factory=list)

    @field_validator("reference_patterns")
    @classmethod
    def _valid_regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
        return value


class NegationConfig(_Strict):
    """Words that cancel the disclosure right after them, for rules with ``negatable = true``.

    ``words``: negations ("tidak ada", "bukan", "no"); ``exceptions``: longer phrases starting
    with one that negate nothing ("bukan hanya", "tidak berhenti"); ``gap``: words that may stand
    between a negation and the phrase it cancels ("tidak ada *yang* pungli").
    """

    words: list[str] = Field(default_factory=list)
    exceptions: list[str] = Field(default_factory=list)
    gap: list[str] = Field(default_factory=list)

    @field_validator("words", "exceptions")
    @classmethod
    def _phrases_not_empty(cls, value: list[str]) -> list[str]:
        return _clean_phrases(value, "negation list")


class KindConfig(_Strict):
    """How ``kind`` is decided when rules are silent or tied."""

    default: Kind = "pengaduan"
    empty: Kind = Field(
        default="permintaan_informasi",
        description="kind of a message with no signal and little content (greetings, 'test')",
    )
    margin: float = Field(
        default=0.0,
        ge=0,
        description="a non-default kind must beat the default kind's score by more than this",
    )


class ScoringConfig(_Strict):
    """How rule hits add up to a unit / kind score.

    Each hit is worth ``weight * repeat_decay**n`` (``n`` = earlier hits of the same rule) times
    ``1 + position_bonus * (1 - start / length)`` for unit rules (tie-break rule 1: the matter
    mentioned first). A unit needs a raw score of at least ``min_unit_score`` to be chosen over
    ``default_unit``; among those, sensitive units' scores are multiplied by ``sensitive_boost``.
    """

    repeat_decay: float = Field(default=0.5, gt=0, le=1)
    position_bonus: float = Field(default=0.5, ge=0)
    sensitive_boost: float = Field(default=2.0, ge=1)
    min_unit_score: float = Field(default=1.5, ge=0)


class RoutingConfig(_Strict):
    """The whole routing configuration."""

    default_unit: str
    """Where a message no rule routes goes (the front desk): every file names its own."""
    anonymity_rules: list[str] = Field(default_factory=list)
    """The rules whose words ask not to be named ("jangan sebut nama saya", "nama saya tidak
    usah dicatat"): any of them makes a case anonymous as well as confidential
    (``triage/assessment.py``). Other secrecy rules ("jangan sampai dia tahu") keep a case
    confidential without hiding who wrote: the officer may still need to call back."""
    clitics: list[str] = Field(
        default_factory=lambda: ["nya"],
        description="suffixes a token may carry and still match (toiletnya -> toilet)",
    )
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    units: list[UnitConfig] = Field(min_length=1)
    rules: list[RuleConfig] = Field(default_factory=list)
    slang: dict[str, str] = Field(default_factory=dict)
    kind: KindConfig = Field(default_factory=KindConfig)
    completeness: CompletenessConfig = Field(default_factory=CompletenessConfig)
    negation: NegationConfig = Field(default_factory=NegationConfig)

    @model_validator(mode="after")
    def _cross_references(self) -> RoutingConfig:
        keys = [u.key for u in self.units]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate unit key(s): {', '.join(duplicates)}")
        known = ", ".join(keys)
        if self.default_unit not in keys:
            raise ValueError(f"default_unit {self.default_unit!r} is not a unit (known: {known})")
        names: set[str] = set()
        for rule in self.rules:
            if rule.name in names:
                raise ValueError(f"duplicate rule name {rule.name!r}")
            names.add(rule.name)
            if rule.unit is not None and rule.unit not in keys:
                raise ValueError(f"rule {rule.name!r} targets unknown unit {rule.unit!r} (known: {known})")
        unknown_anonymity = [name for name in self.anonymity_rules if name not in names]
        if unknown_anonymity:
            raise ValueError(f"anonymity_rules name no rule: {', '.join(map(repr, unknown_anonymity))}")
        for slang_key in self.slang:
            if not slang_key or len(slang_key.split()) != 1:
                raise ValueError(f"slang key {slang_key!r} must be a single word")
        return self

    def unit(self, key: str) -> UnitConfig:
        """The unit with this key; ``KeyError`` naming the key if there is none."""
        for unit in self.units:
            if unit.key == key:
                return unit
        raise KeyError(f"unknown unit {key!r}")

    def unit_for_label(self, label: str) -> str | None:
        """The unit a label names: its key, its name or one of its ``aliases`` (``*`` matches
        anything), ignoring case and spacing; None when no unit has that label."""
        folded = _folded(label)
        if not folded:
            return None
        for unit in self.units:
            if folded in (unit.key, _folded(unit.name)):
                return unit.key
        for unit in self.units:
            if any(fnmatchcase(folded, _folded(alias)) for alias in unit.aliases):
                return unit.key
        return None

    @property
    def unit_keys(self) -> tuple[str, ...]:
        return tuple(u.key for u in self.units)

    @property
    def sensitive_units(self) -> frozenset[str]:
        return frozenset(u.key for u in self.units if u.sensitive)


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _describe_location(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """``('rules', 3, 'weight')`` -> ``rules[3] 'kind.saran' -> weight``."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            entry = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(entry, dict):
                ident = entry.get("name", entry.get("key"))
                if ident is not None:
                    label += f" {ident!r}"
            parts.append(label)
            node = entry
        else:
            parts.append(f" -> {item}" if parts else item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _format_errors(path: Path, exc: ValidationError, data: dict[str, Any]) -> str:
    lines = [f"invalid routing config {path}:"]
    for error in exc.errors():
        where = _describe_location(tuple(error["loc"]), data)
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def load_routing(path: Path = DEFAULT_ROUTING_PATH) -> RoutingConfig:
    """Read and validate a routing TOML file; raise :class:`RoutingConfigError` on any problem."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RoutingConfigError(f"cannot read routing config {path}: {exc}") from exc
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        raise RoutingConfigError(_format_errors(path, exc, data)) from exc
