"""The receipt (bukti penerimaan) a reporter gets on the channel they used, in their language.

The words are the admin's, in ``config/templates/<language>/receipt.txt.j2``; this module only
gathers the facts. A confidential case's receipt names no unit: the receipt may be read by others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.texts import Text, Texts, format_day, format_moment

__all__ = ["ReceiptFacts", "format_day", "format_moment", "receipt"]


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    tracking_number: str
    kind: str
    unit_name: str
    confidential: bool
    first_response_due: datetime
    resolution_due: datetime
    missing: tuple[str, ...] = ()
    """The required contents the report lacks: the receipt says a request for them follows."""


def receipt(facts: ReceiptFacts, texts: Texts, language: str) -> Text:
    return texts.render(
        "receipt",
        language,
        tracking_number=facts.tracking_number,
        kind=facts.kind,
        unit_name="" if facts.confidential else facts.unit_name,
        confidential=facts.confidential,
        first_response_due=facts.first_response_due,
        resolution_due=facts.resolution_due,
        missing=list(facts.missing),
    )
