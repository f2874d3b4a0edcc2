"""The ministry's required contents of a complaint, checked when its case opens.

Which contents a report needs depends on its kind and unit (``config/completeness.toml``); a
channel whose own form asks for some of them (the web form has a name and an attachment field)
is never asked for those again. The checks are deliberately lenient word matches: a false
"missing" costs the reporter a round trip and stops the clock, so only what plainly is not there
is asked for.

Asking is only for a reporter who can answer into the case (``can_answer``): otherwise the case
opens incomplete with its clock running, and the officer asks when calling back.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.routing import RoutingConfig
from config.settings import ConfigError
from envelopes import NormalizedMessage
from triage.external import Elsewhere
from triage.replies import InPerson, Route
from triage.text import MatcherGroup, Normalizer, PhraseMatcher
from triage.texts import FORM_CHANNELS

Element = Literal["identity", "place", "time", "what", "who", "evidence"]
ELEMENTS: tuple[Element, ...] = ("identity", "place", "time", "what", "who", "evidence")
_MATCHED = ("place", "time", "who", "evidence")
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "completeness.toml"

_DATE_OR_TIME = re.compile(r"\b\d{1,2}[./:-]\d{1,2}([./-]\d{2,4})?\b|\b\d{1,2}\s*(am|pm)\b", re.IGNORECASE)
_ROOM = re.compile(r"\b[A-Z]{1,3}[- ]?\d{2,4}\b")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _What(_Strict):
    min_words: int = Field(default=6, ge=0)
    """Used when the caller has no judgement of its own (``described``): words that are not filler."""


class _Phrases(_Strict):
    place: list[str] = []
    attached_place: list[str] = []
    """Prefixes a place word may be written into ("dijalan", "kekampus")."""
    time: list[str] = []
    who: list[str] = []
    evidence: list[str] = []


class CompletenessRules(_Strict):
    required: dict[str, list[Element]] = {}
    required_by_unit: dict[str, list[Element]] = {}
    by_unit_kinds: list[str] = ["pengaduan"]
    """The kinds ``required_by_unit`` applies to: a question or a suggestion has no incident."""
    form_fields: dict[str, list[Element]] = {}
    what: _What = _What()
    phrases: _Phrases = _Phrases()


def load_rules(path: Path = DEFAULT_FILE) -> CompletenessRules:
    try:
        with path.open("rb") as handle:
            return CompletenessRules.model_validate(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"completeness file {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"completeness file {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@dataclass(frozen=True, slots=True)
class Completeness:
    """Checks a report's contents against the rules of its kind and unit."""

    rules: CompletenessRules
    normalizer: Normalizer
    matchers: dict[str, PhraseMatcher]
    filler: frozenset[str]
    group: MatcherGroup
    """The four phrase lists matched in one scan of the tokens."""

    @classmethod
    def build(cls, routing: RoutingConfig, rules: CompletenessRules | None = None) -> Completeness:
        rules = rules or load_rules()
        normalizer = Normalizer(routing.slang)
        matchers = {
            name: PhraseMatcher(_patterns(normalizer, getattr(rules.phrases, name)), routing.clitics)
            for name in _MATCHED
        }
        filler = frozenset(token for word in routing.completeness.filler for token in normalizer(word))
        return cls(rules, normalizer, matchers, filler, MatcherGroup([matchers[name] for name in _MATCHED]))

    def required(self, kind: str, unit: str, channel: str) -> list[Element]:
        wanted = self.rules.required.get(kind, [])
        if kind in self.rules.by_unit_kinds:
            wanted = self.rules.required_by_unit.get(unit, wanted)
        asked = set(self.rules.form_fields.get(channel, []))
        return [element for element in ELEMENTS if element in wanted and element not in asked]

    def missing(
        self,
        message: NormalizedMessage,
        kind: str,
        unit: str,
        *,
        anonymous_asked: bool,
        described: bool | None = None,
    ) -> list[Element]:
        """What the report must still say, in the ministry's order (empty: the file is complete).

        ``described``: the classifier's judgement whether the message says what happened or what
        is wanted in enough detail to act on (``Classification.complete``); without it, "what"
        counts words."""
        required = self.required(kind, unit, message.channel)
        if not required:
            return []
        text = f"{message.subject}\n{message.text}"
        tokens = self.normalizer(text)
        spans = dict(zip(_MATCHED, self.group.spans(tokens), strict=True))
        checks = {
            "identity": lambda: bool(message.reporter.name) or message.anonymous or anonymous_asked,
            "place": lambda: bool(spans["place"]) or self._attached_place(tokens) or bool(_ROOM.search(text)),
            "time": lambda: bool(spans["time"]) or bool(_DATE_OR_TIME.search(text)),
            "what": lambda: (
                described
                if described is not None
                else sum(token not in self.filler for token in tokens) >= self.rules.what.min_words
            ),
            "who": lambda: bool(spans["who"]),
            "evidence": lambda: bool(message.attachments or message.media) or bool(spans["evidence"]),
        }
        return [element for element in required if not checks[element]()]

    def _attached_place(self, tokens: tuple[str, ...]) -> bool:
        prefixes = self.rules.phrases.attached_place
        place = self.matchers["place"]
        return any(
            token.startswith(prefix) and len(token) > len(prefix) + 2 and place.spans((token[len(prefix) :],))
            for token in tokens
            for prefix in prefixes
        )


def _patterns(normalizer: Normalizer, phrases: list[str]) -> list[tuple[str, ...]]:
    """Phrases as token patterns; one the slang map drops whole (a salutation: "pak") matches nothing."""
    return [tokens for tokens in (normalizer.phrase(p) for p in phrases) if tokens]


def can_answer(reply: Route | InPerson | Elsewhere | None, *, forms_mailed: bool) -> bool:
    """Whether the receipt goes by a route the reporter can answer on into the case, so that
    asking for what is missing (and stopping the clock until they answer) makes sense: a channel
    that receives as well as sends (a chat, email, a platform such as LAPOR! whose follow-ups come
    back), and a form only when the receipt is mailed (``forms_mailed`` and an address given: the
    answer comes back by email). Not a receipt given in person (a phone-log call): nobody asked."""
    if isinstance(reply, Route):
        return reply.channel not in FORM_CHANNELS or (forms_mailed and bool(reply.recipient.email))
    return isinstance(reply, Elsewhere)
