"""Everything triage decides about one message, in one place: the stage and the
``satupintu triage`` commands both call :class:`Assessor`, so what an officer measures with
``triage eval`` is what the pipeline does with a case.

On top of the classifier's kind, unit and rules it decides:

* **confidential**: the unit is sensitive, a rule with ``confidential = true`` fired (a wish for
  secrecy in any words, self-harm), or the channel marks the report so: LAPOR!'s *rahasia*, or
  the unit an officer logged it for (``extra["unit"]``, a phone log's "unit tujuan") names a
  sensitive unit by its key, name or an alias of the routing file. A wish for secrecy makes the
  case confidential as well as anonymous: when in doubt triage errs towards confidential,
  because a false alarm costs an officer a click and a miss exposes the reporter.
* **anonymous**: the reporter asked not to be named (the channel's flag, or the words of the
  routing file's ``anonymity_rules``).
* **urgent**: a rule listed in ``[sla] urgent_rules`` fired (same-day handling).
* **missing**: the required contents the report lacks (``config/completeness.toml``);
  ``complete`` is that list being empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config.routing import RoutingConfig
from envelopes import NormalizedMessage
from triage.classify import Classification, Classifier
from triage.completeness import Completeness, CompletenessRules, Element
from triage.language import detect


@dataclass(frozen=True, slots=True)
class Assessment:
    """What triage decided about one message; ``reasons`` say why, for the officer."""

    classification: Classification
    confidential: bool
    anonymous: bool
    urgent: bool
    missing: tuple[Element, ...]
    language: str

    @property
    def kind(self) -> str:
        return self.classification.kind

    @property
    def unit(self) -> str:
        return self.classification.unit

    @property
    def priority(self) -> str:
        return self.classification.priority

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.classification.reasons


class Assessor:
    """The classifier and the completeness rules of one routing file, compiled once."""

    __slots__ = ("_anonymity", "_confidential_rules", "_routing", "_sensitive", "_urgent", "classifier", "completeness")

    def __init__(
        self,
        routing: RoutingConfig,
        urgent_rules: Iterable[str] = (),
        completeness: CompletenessRules | None = None,
    ) -> None:
        self.classifier = Classifier(routing)
        self._routing = routing
        self.completeness = Completeness.build(routing, completeness)
        self._sensitive = routing.sensitive_units
        self._confidential_rules = frozenset(rule.name for rule in routing.rules if rule.confidential)
        self._anonymity = frozenset(routing.anonymity_rules)
        self._urgent = frozenset(urgent_rules)

    def _logged_for_sensitive(self, message: NormalizedMessage) -> bool:
        logged = message.extra.get("unit")
        return isinstance(logged, str) and self._routing.unit_for_label(logged) in self._sensitive

    def classify(self, message: NormalizedMessage) -> Classification:
        return self.classifier.classify(message.text, message.subject, message.declared_kind)

    def assess(self, message: NormalizedMessage, found: Classification | None = None) -> Assessment:
        """The whole decision; ``found`` is the message's classification when already made."""
        found = found or self.classify(message)
        fired = set(found.rules)
        anonymous = message.anonymous or bool(self._anonymity & fired)
        sensitive = found.unit in self._sensitive or self._logged_for_sensitive(message)
        return Assessment(
            classification=found,
            confidential=sensitive or bool(self._confidential_rules & fired) or message.confidential,
            anonymous=anonymous,
            urgent=bool(self._urgent & fired),
            missing=tuple(
                self.completeness.missing(
                    message, found.kind, found.unit, anonymous_asked=anonymous, described=found.complete
                )
            ),
            language=detect(f"{message.subject}\n{message.text}", message.language),
        )
