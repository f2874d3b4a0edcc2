"""Working-day deadlines of a case, and the clock that stops while it waits for the reporter.

Verification/forwarding and the first follow-up count from the receipt day; the resolution and
the legal ceiling count from the day the file is complete (Perpres 76/2013: 60 days), so a case
that is not complete yet has them provisionally from its receipt, and they are set again when
the file completes. ``[sla]`` holds the values, overridden per kind and then per category.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config.settings import SlaProfile, SlaSettings
from triage.calendar import WorkingCalendar

DEADLINES = ("verify", "first_response", "resolution", "final")
"""The deadlines a case has, by name; each is the column ``<name>_due``."""


@dataclass(frozen=True, slots=True)
class Profile:
    """The deadlines of one kind and category, in working days (``final`` maybe calendar days)."""

    verify_days: int
    first_response_days: int
    resolution_days: int
    extension_days: int
    final_days: int
    final_working_days: bool


def profile(sla: SlaSettings, kind: str, category: str | None) -> Profile:
    """``[sla]``, then ``[sla.kinds.<kind>]``, then ``[sla.categories.<category>]``."""
    values: dict[str, Any] = {name: getattr(sla, name) for name in Profile.__dataclass_fields__}
    layers: list[SlaProfile | None] = [sla.kinds.get(kind), sla.categories.get(category or "")]
    for layer in layers:
        if layer is not None:
            values.update({k: v for k, v in layer.model_dump().items() if v is not None})
    return Profile(**values)


@dataclass(frozen=True, slots=True)
class Clock:
    """Computes a case's due moments from its profile and the office calendar."""

    calendar: WorkingCalendar
    sla: SlaSettings

    def on_receipt(
        self, kind: str, category: str | None, received_at: datetime, *, urgent: bool = False
    ) -> dict[str, datetime]:
        """The deadlines a new case gets; the resolution and ceiling count from a complete file,
        which a case is treated as having at receipt until a request for what is missing. An
        urgent case (self-harm) is verified and first answered within ``urgent_hours`` of its
        arrival, on any day at any hour."""
        rules = profile(self.sla, kind, category)
        due = {
            "verify_due": self.calendar.deadline(received_at, rules.verify_days),
            "first_response_due": self.calendar.deadline(received_at, rules.first_response_days),
            **self.from_complete(rules, received_at),
        }
        if urgent:
            soon = received_at + timedelta(hours=self.sla.urgent_hours)
            due["verify_due"] = due["first_response_due"] = soon
        return due

    def urgent(self, rules: Iterable[str]) -> bool:
        return bool(set(self.sla.urgent_rules) & set(rules))

    def from_complete(self, rules: Profile, complete_at: datetime) -> dict[str, datetime]:
        """Resolution and the legal ceiling, counted from the day the file became complete."""
        if rules.final_working_days:
            final = self.calendar.deadline(complete_at, rules.final_days)
        else:
            final = self.calendar.calendar_deadline(complete_at, rules.final_days)
        return {"resolution_due": self.calendar.deadline(complete_at, rules.resolution_days), "final_due": final}

    def extended(self, rules: Profile, resolution_due: datetime, final_due: datetime | None) -> datetime:
        """The resolution deadline after its one extension, never past the legal ceiling."""
        later = self.calendar.shift(resolution_due, rules.extension_days)
        return min(later, final_due) if final_due is not None else later

    def resumed(self, case: dict[str, Any], paused_at: datetime, at: datetime) -> dict[str, datetime]:
        """The open deadlines moved by the working days the clock was stopped; the calendar-day
        ceiling by the calendar days."""
        lost = self.calendar.working_days_between(paused_at, at)
        moved: dict[str, datetime] = {}
        for name in DEADLINES:
            due = case.get(f"{name}_due")
            if due is None or _met(case, name):
                continue
            if name == "final" and not profile(self.sla, case["kind"], case["category"]).final_working_days:
                moved["final_due"] = due + timedelta(days=(at - paused_at).days)
            else:
                moved[f"{name}_due"] = self.calendar.shift(due, lost)
        return moved


def _met(case: dict[str, Any], name: str) -> bool:
    """Whether the case already did what the deadline asks."""
    done = {
        "verify": case.get("forwarded_at"),
        "first_response": case.get("first_response_at"),
        "resolution": case.get("resolved_at"),
        "final": case.get("resolved_at"),
    }[name]
    return done is not None


def open_deadlines(case: dict[str, Any]) -> dict[str, datetime]:
    """The deadlines still running: not met, not stopped, the case not finished."""
    if case.get("paused_at") is not None or case.get("closed_at") is not None:
        return {}
    return {
        name: case[f"{name}_due"] for name in DEADLINES if case.get(f"{name}_due") is not None and not _met(case, name)
    }


def next_deadline(case: dict[str, Any]) -> tuple[str, datetime] | None:
    found = open_deadlines(case)
    if not found:
        return None
    name = min(found, key=lambda key: found[key])
    return name, found[name]
