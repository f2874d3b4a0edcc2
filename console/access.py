"""What an officer may see and do, by role: the one place the console and its API ask.

- ``admin`` and ``ult``: every case; ``unit``: their unit's cases only (another unit's case is
  answered 404, as if it did not exist); ``auditor``: every case, read-only.
- A confidential or anonymous case's reporter: only to the roles ``[access]`` allows
  (``triage/access.py``), masked for the rest; every view of it is an audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from config.settings import AccessSettings
from console.auth import Officer
from storage.cases import record_events
from triage import access as rules

NO_UNIT = "(no unit)"
"""The scope of a unit officer without a unit: a key no unit has (``routing.toml`` keys are
lowercase identifiers), so that every query answers nothing."""
REVEALED = "reporter_revealed"
"""The audit event of a view of a protected reporter (the CLI's ``cases show --reveal`` writes it too)."""


def unit_scope(officer: Officer) -> str | None:
    """The unit whose cases the officer sees; None: every unit. A unit officer without a unit (which
    ``officers add`` refuses) sees no case rather than all."""
    if officer.role == "unit":
        return officer.unit or NO_UNIT
    return None


def in_scope(officer: Officer, case_unit: str | None) -> bool:
    """Whether a case of ``case_unit`` is one the officer may see at all."""
    scope = unit_scope(officer)
    return scope is None or scope == case_unit


def may_act(officer: Officer) -> bool:
    """Whether the officer may change anything (an action, a registration, a link): not an auditor."""
    return officer.role != "auditor"


def protected(case: Mapping[str, Any]) -> bool:
    """Whether the case's reporter is shown only to some roles: confidential or anonymous."""
    return bool(case["confidential"] or case["anonymous"])


def may_see_reporter(access: AccessSettings, officer: Officer, case: Mapping[str, Any]) -> bool:
    """Whether the officer may see who reported ``case`` (``confidential``, ``anonymous``, ``unit``);
    a unit officer never sees another unit's reporters, whatever the case."""
    if not in_scope(officer, case["unit"]):
        return False
    unit = (officer.unit or NO_UNIT) if officer.role == "unit" else None
    return rules.may_see_reporter(access, officer.role, case, unit)


def record_identity_view(connection: Connection, officer: Officer, case_id: int) -> None:
    """The audit event of the officer seeing a protected reporter: write it, in the transaction
    that reads what is shown, before showing it (no record, no view)."""
    detail = {"role": officer.role, "via": "console"}
    record_events(connection, [{"case_id": case_id, "actor": officer.name, "action": REVEALED, "detail": detail}])
