"""DESIGN: every view of a confidential case's reporter is audited; no record, no view."""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy import Engine


def audit_reveal(engine: Engine, case_id: int, detail: dict[str, Any] | None = None) -> None:
    """Record a ``reporter_revealed`` event on the case before anything is shown."""
    from storage.cases import record_events
    from storage.db import transaction

    event = {"case_id": case_id, "actor": actor(), "action": "reporter_revealed", "detail": detail or {}}
    with transaction(engine) as connection:
        record_events(connection, [event])


def actor() -> str:
    """Who is at the terminal, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
