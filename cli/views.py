"""How the terminal shows cases and records to officers: times in the unit's zone, and a
confidential case's reporter hidden unless asked for (a terminal view until the console exists)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

CONFIDENTIAL = "[rahasia]"
IN_PERSON = "in person / by phone: no channel reaches the reporter, give them the tracking number yourself"


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]], minimum: Sequence[int] = ()) -> list[str]:
    """A table with a header: each column as wide as its widest cell (at least ``minimum``), so a
    long status or role list pushes the next column along instead of running into it; the last
    column is left ragged."""
    widths = [
        max(len(header), minimum[i] if i < len(minimum) else 0, *(len(row[i]) for row in rows))
        for i, header in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=False))
        return " ".join([*padded, cells[-1]]).rstrip()

    return [line(headers), *(line(row) for row in rows)]


CASE_HEADERS = (
    "TRACKING NUMBER", "KIND", "UNIT", "STATUS", "PRIORITY", "CHANNEL", "RECEIPT", "NEXT DEADLINE", "SUBJECT",
)  # fmt: skip


def case_table(rows: Sequence[dict[str, Any]], zone: ZoneInfo) -> list[str]:
    """``cases list`` for people: a header, then a line per case."""
    cells = [
        (
            row["tracking_number"] + (f" ({external_label(row)})" if row.get("external_ref") else ""),
            row["kind"],
            row["unit"],
            row["status"],
            row["priority"],
            row["channel"],
            row["receipt_via"] or "in-person",
            _due_cell(row, zone),
            row["subject"][:50],
        )
        for row in rows
    ]
    return columns(CASE_HEADERS, cells)


def _due_cell(row: dict[str, Any], zone: ZoneInfo) -> str:
    """The next deadline still running, and "OVERDUE" once it has passed; "-" when none runs
    (the case waits for the reporter, or is finished)."""
    upcoming = row["next_deadline"]
    if upcoming is None:
        return "due -"
    flag = " OVERDUE" if row["overdue"] else ""
    return f"due {local_time(upcoming['due'], zone)} {upcoming['kind']}{flag}"


def to_json(data: Any, zone: ZoneInfo) -> str:
    return json.dumps(data, default=partial(_json_default, zone=zone), ensure_ascii=False, indent=2)


def _json_default(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return _aware(value).astimezone(zone).isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _aware(moment: datetime) -> datetime:
    """Stored times are UTC; a driver handing one back without its zone must not make it local."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """Officers read times in the unit's zone (DESIGN "Time"), with its name (WITA) or offset."""
    if moment is None:
        return "-"
    local = _aware(moment).astimezone(zone)
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        offset = f"{local:%z}"
        name = f"{offset[:3]}:{offset[3:]}"
    return f"{local.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {name}"


def masked_case(case: dict[str, Any]) -> dict[str, Any]:
    """A confidential case without --reveal: who reported it, and where replies go, stay hidden;
    so do the identities an error quotes ("550 5.1.1 <x@y>") in rows written before errors were
    redacted as they are stored."""
    hidden: dict[str, Any] = {
        "id": None,
        "name": CONFIDENTIAL,
        "email": [],
        "phone": [],
        "channel_user": [],
        "hidden": True,
    }
    return {
        **case,
        "reporter_id": None,
        "reporter_name": CONFIDENTIAL if case["reporter_name"] else None,
        "reporter": hidden if case["reporter"] else None,
        "conversation_key": CONFIDENTIAL,
        "outbox": [{**row, "recipient": CONFIDENTIAL, "error": _redacted(row["error"])} for row in case["outbox"]],
        "events": [{**event, "detail": _masked_detail(event["detail"])} for event in case["events"]],
    }


def _masked_detail(detail: Any) -> Any:
    """An event's ``error`` and ``reason`` are a provider's or a person's words: identities hide there."""
    if not isinstance(detail, dict):
        return detail
    masked = {key: _redacted(value) if key in {"error", "reason"} else value for key, value in detail.items()}
    if isinstance(detail.get("reachable"), list):  # the channels stay, the addresses are the reporter's
        masked["reachable"] = [{**way, "address": CONFIDENTIAL} for way in detail["reachable"]]
    return masked


def _redacted(value: Any) -> Any:
    from pipeline.logs import redact  # not at import: most commands never mask

    return redact(value) if isinstance(value, str) else value


def masked_dead(entry: dict[str, Any]) -> dict[str, Any]:
    """A dead message of a confidential case, or of no case yet (its confidentiality unknown):
    what the channel sent (payload, headers, ids) and the normalized reporter stay hidden; the
    reason reads as the logs have it, identities masked."""
    from pipeline.logs import redact

    hidden = {**entry, "error": redact(entry["error"]) if entry["error"] else entry["error"], "hidden": True}
    for key in ("payload_preview", "headers", "external_id", "recipient"):
        if key in entry:
            hidden[key] = CONFIDENTIAL
    if entry.get("normalized"):
        identifying = ("reporter", "conversation_key", "extra")
        hidden["normalized"] = {**entry["normalized"], **dict.fromkeys(identifying, CONFIDENTIAL)}
    return hidden


def case_lines(data: dict[str, Any], zone: ZoneInfo) -> list[str]:
    """``cases show`` as text: the case, its reporter, the thread with attachments, outbox, audit."""
    lines: list[str] = []
    for key in ("tracking_number", "kind", "unit", "status", "priority", "confidential", "channel", "subject"):
        lines.append(f"{key:<20} {data[key]}")
        if key == "tracking_number" and data.get("external_ref"):
            lines.append(f"{'external_ref':<20} {external_label(data)}")
    lines.append(f"{'reporter':<20} {_reporter_line(data['reporter'])}")
    lines.append(f"{'receipt_via':<20} {_receipt_line(data)}")
    lines.append(f"{'routing_rules':<20} {data['routing_rules']}")
    if data.get("missing"):
        lines.append(f"{'missing':<20} {_missing_line(data)}")
    for key in ("received_at", "first_response_due", "resolution_due"):
        lines.append(f"{key:<20} {local_time(data[key], zone)}")
    for message in data["messages"]:
        when = local_time(message["received_at"], zone)
        lines.append(f"\n--- #{message['id']} {message['direction']} {message['channel']} {when}")  # ids: cases split
        lines.append(message["text"])
        lines += (_attachment_line(a) for a in data["attachments"] if a["message_id"] == message["id"])
    for row in data["outbox"]:
        lines.append(f"\n=== outbox {row['purpose']} {row['state']} {row['provider_message_id'] or ''}")
    for event in data["events"]:
        line = f"  {local_time(event['at'], zone, seconds=True)} {event['actor']} {event['action']}"
        lines.append(line + _refusal_text(event))
    return lines


def _missing_line(case: dict[str, Any]) -> str:
    """What the report still lacks: asked of the reporter (the case waits), or, when they cannot
    answer the receipt (a one-way form, a receipt given in person), for the officer to ask."""
    missing = ", ".join(case["missing"])
    if case["status"] == "waiting_reporter":
        return f"{missing} (asked of the reporter; the clock is stopped until they answer)"
    return f"{missing} (not asked: ask the reporter when you call back)"


def _refusal_text(event: dict[str, Any]) -> str:
    """A reply that failed for good says why, and where else the reporter can be reached
    (``reachable``, written by the delivery stage), so the officer can answer there."""
    detail = event["detail"] if isinstance(event["detail"], dict) else {}
    if not event["action"].endswith("_failed") or "reachable" not in detail:
        return ""
    ways = [f"{w['channel']} ({w['address']})" for w in detail["reachable"]]
    other = f"reachable by: {', '.join(ways)}" if ways else "no other channel of the reporter is known"
    why = detail.get("error") or "no reason given"
    if detail.get("error_code"):  # a failure the channel reported later (``delivery_failed``)
        why = f"{detail['error_code']}: {why}"
    return f": refused: {why}; {other}"


def _receipt_line(case: dict[str, Any]) -> str:
    """A report from another platform (LAPOR!) got its receipt there: follow-ups go there too."""
    via = case["receipt_via"]
    if via and case.get("external_ref") and via == case["channel"]:
        return f"{via} (no receipt from us: {external_label(case).split()[0]} told the reporter; post follow-ups there)"
    return via or IN_PERSON


def external_label(case: dict[str, Any]) -> str:
    """``LAPOR! 4512873``: the report's number on the platform it came from, shown beside ours."""
    platform = {"lapor": "LAPOR!"}.get(case["channel"], case["channel"])
    return f"{platform} {case['external_ref']}"


def _reporter_line(reporter: dict[str, Any] | None) -> str:
    """The name is the one the case's own message gave (``storage.cases.case_reporter``)."""
    if reporter is None:
        return "-"
    if reporter["hidden"]:
        return f"{CONFIDENTIAL} (confidential case: --reveal shows it, and is audited)"
    known = [*reporter["email"], *reporter["phone"], *reporter["channel_user"]]
    return "  ".join([reporter["name"] or "(no name)", *known])


def _attachment_line(item: dict[str, Any]) -> str:
    """Media a channel sent by reference is fetched after storage; a failure is shown, not hidden."""
    name = item["filename"] or item["kind"]
    if item["state"] == "failed":
        return f"  attachment: {name} could not be fetched: {item['error'] or 'no reason given'}"
    if item["state"] not in {"stored", "fetched"}:
        return f"  attachment: {name} (not fetched yet)"
    return f"  attachment: {name} ({item['content_type']}, {item['size']} bytes)"
