"""Shaping what ``console.queries`` read for an officer: the reporter masked where the role may not
see it, and JSON for the API.

Masking is decided by the caller (``console.access.may_see_reporter``); these functions only
blank what identifies the reporter: their name and identities, where replies go, the links and
suggestions (which name other reporters' identities), and what errors and reasons quote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from console.queries import CaseDetail, CaseSummary, ReporterInfo, ThreadEntry

CONFIDENTIAL = "[rahasia]"
_CASE_IDENTIFYING = ("reporter_name", "conversation_key")


def masked_summary(summary: CaseSummary) -> CaseSummary:
    return dataclasses.replace(summary, reporter_name=CONFIDENTIAL if summary.reporter_name else None)


def masked_detail(detail: CaseDetail) -> CaseDetail:
    case = dict(detail.case)
    for key in _CASE_IDENTIFYING:
        if case.get(key):
            case[key] = CONFIDENTIAL
    case["reporter_id"] = None
    reporter = None
    if detail.reporter is not None:
        reporter = ReporterInfo(
            id=0, name=CONFIDENTIAL, email=[], phone=[], channel_user=[], linked=[], suggestions=[], hidden=True
        )
    return dataclasses.replace(
        detail,
        case=case,
        reporter=reporter,
        thread=[_masked_entry(entry) for entry in detail.thread],
        events=[dataclasses.replace(event, detail=_masked_event(event.detail)) for event in detail.events],
    )


def _masked_entry(entry: ThreadEntry) -> ThreadEntry:
    return dataclasses.replace(entry, error=_redacted(entry.error)) if entry.error else entry


def _masked_event(detail: Mapping[str, Any]) -> dict[str, Any]:
    """An event's ``error`` and ``reason`` are a provider's or a person's words: identities hide
    there; ``reachable`` names the reporter's addresses."""
    masked = {key: _redacted(value) if key in {"error", "reason"} else value for key, value in detail.items()}
    if isinstance(detail.get("reachable"), list):
        masked["reachable"] = [
            {**way, "address": CONFIDENTIAL} if isinstance(way, dict) else way for way in detail["reachable"]
        ]
    return masked


def _redacted(value: Any) -> Any:
    from pipeline.logs import redact

    return redact(value) if isinstance(value, str) else value


def to_json(value: Any) -> Any:
    """Dataclasses, datetimes (ISO 8601, UTC as stored), durations (seconds) and decimals as JSON
    values; everything else as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
