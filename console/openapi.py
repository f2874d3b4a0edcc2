"""The OpenAPI 3.1 document of ``/api/v1/``: the officers' API and the reporters' public endpoints.

The console's shapes are derived from the dataclasses of ``console/queries.py`` (what the API
answers is those dataclasses as JSON, :func:`console.api.plain`), so the document cannot drift
from the code; the tests validate every response against it. Built once, served as
``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime, timedelta
from typing import Any, Literal, Union

from config.routing import KINDS
from console import queries
from console.actions import ACTIONS, MISSING_CONTENTS
from storage.models import CASE_STATUSES
from triage.lifecycle import CHECKLIST

Schema = dict[str, Any]
VERSION = "1.0.0"
ROLES = ("admin", "ult", "unit", "auditor")
TRACKING = {"type": "string", "pattern": r"^[A-Z]{1,6}-\d{2}-\d{5,}-\d$", "examples": ["ULT-26-00042-8"]}

CASE_COLUMNS: dict[str, Schema] = {
    "id": {"type": "integer"},
    "tracking_number": {"type": "string"},
    "kind": {"enum": list(KINDS)},
    "category": {"type": ["string", "null"]},
    "unit": {"type": "string"},
    "status": {"enum": list(CASE_STATUSES)},
    "priority": {"type": "string"},
    "confidential": {"type": "boolean"},
    "anonymous": {"type": "boolean"},
    "complete": {"type": "boolean"},
    "reporter_name": {"type": ["string", "null"], "description": "null when masked or not given"},
    "channel": {"type": "string"},
    "receipt_via": {"type": ["string", "null"], "description": "null: give the tracking number in person"},
    "subject": {"type": "string"},
    "routing_rules": {"type": "string"},
    "language": {"type": "string"},
    "assignee": {"type": ["string", "null"]},
    "missing": {"type": "array", "items": {"type": "string"}},
    "checklist": {"type": "object", "additionalProperties": {"type": "object"}},
    "paused_status": {"type": ["string", "null"]},
    "extended": {"type": "boolean"},
    "external_ref": {"type": ["string", "null"], "description": "the report's number on SP4N-LAPOR!"},
    **{
        name: {"type": ["string", "null"], "format": "date-time"}
        for name in (
            "received_at",
            "first_response_due",
            "resolution_due",
            "verify_due",
            "final_due",
            "file_complete_at",
            "paused_at",
            "forwarded_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "created_at",
            "updated_at",
        )
    },
}
"""What the API shows of a case row (not its conversation key nor its reporter's id)."""


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _of_type(kind: Any, names: dict[type, str]) -> Schema:
    """The JSON Schema of a Python annotation, as :func:`console.api.plain` renders its values."""
    origin = typing.get_origin(kind)
    arguments = typing.get_args(kind)
    if kind is Any:
        return {}
    if origin in (Union, types.UnionType):
        options = [_of_type(a, names) for a in arguments if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return nullable(schema) if type(None) in arguments else schema
    if origin is Literal:
        return {"enum": list(arguments)}
    if origin is tuple and arguments and arguments[-1] is not Ellipsis:
        return {
            "type": "array",
            "prefixItems": [_of_type(a, names) for a in arguments],
            "minItems": len(arguments),
            "maxItems": len(arguments),
        }
    if origin in (list, tuple):
        return {"type": "array", "items": _of_type(arguments[0], names) if arguments else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _of_type(arguments[1], names)}
    if kind in names:
        return ref(names[kind])
    simple: dict[Any, Schema] = {
        str: {"type": "string"},
        int: {"type": "integer"},
        float: {"type": "number"},
        bool: {"type": "boolean"},
        datetime: {"type": "string", "format": "date-time"},
        timedelta: {"type": "number", "description": "seconds"},
    }
    if kind in simple:
        return simple[kind]
    raise TypeError(f"no JSON schema for {kind!r}")


def _of_dataclass(cls: type, names: dict[type, str], overrides: dict[str, Schema]) -> Schema:
    hints = typing.get_type_hints(cls)
    properties = {f.name: overrides.get(f.name) or _of_type(hints[f.name], names) for f in dataclasses.fields(cls)}
    extra = {name: {"type": "boolean"} for name in _PROPERTIES.get(cls, ())}
    return {
        "type": "object",
        "properties": {**properties, **extra},
        "required": [*properties, *extra],
        "additionalProperties": False,
    }


_PROPERTIES: dict[type, tuple[str, ...]] = {queries.AttachmentInfo: ("available",)}
"""Properties (not fields) of a dataclass that the API answers too."""

_SHAPES: dict[str, tuple[type, dict[str, Schema]]] = {
    "CaseSummary": (queries.CaseSummary, {}),
    "AttachmentInfo": (queries.AttachmentInfo, {}),
    "ThreadEntry": (queries.ThreadEntry, {}),
    "DeadlineInfo": (queries.DeadlineInfo, {}),
    "LinkedReporter": (queries.LinkedReporter, {}),
    "SuggestedLink": (queries.SuggestedLink, {}),
    "ReporterInfo": (queries.ReporterInfo, {}),
    "AuditEntry": (queries.AuditEntry, {}),
    "QueueVisit": (queries.QueueVisit, {}),
    "CaseDetail": (queries.CaseDetail, {"case": ref("Case")}),
    "DeadlineStats": (queries.DeadlineStats, {}),
    "ChannelHealth": (queries.ChannelHealth, {}),
    "Dashboard": (queries.Dashboard, {"skm": {"type": "array", "items": ref("SatisfactionIndex")}}),
    "NewMessage": (queries.NewMessage, {}),
    "Changes": (queries.Changes, {}),
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "reason"],
            "properties": {
                "status": {"type": "integer"},
                "reason": {"type": "string", "description": "one sentence for a person"},
                "code": {"type": "string", "description": "names the refusal (actions): forbidden, not_found, ..."},
                "field": {"type": ["string", "null"], "description": "the field at fault (422)"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


def _components() -> dict[str, Schema]:
    names = {cls: name for name, (cls, _) in _SHAPES.items()}
    schemas: dict[str, Schema] = {name: _of_dataclass(cls, names, over) for name, (cls, over) in _SHAPES.items()}
    schemas["Case"] = {
        "type": "object",
        "properties": CASE_COLUMNS,
        "required": list(CASE_COLUMNS),
        "additionalProperties": False,
    }
    schemas["SatisfactionIndex"] = {
        "type": "object",
        "description": "The SKM (PermenPANRB 14/2017) of one unit, or of all (unit null), this month",
        "required": ["unit", "respondents", "element_means", "ikm", "converted", "grade", "performance"],
        "properties": {
            "unit": {"type": ["string", "null"]},
            "respondents": {"type": "integer"},
            "element_means": {"type": "object", "additionalProperties": {"type": "number"}},
            "ikm": {"type": "number"},
            "converted": {"type": "number"},
            "grade": {"type": "string"},
            "performance": {"type": "string"},
        },
    }
    schemas["InboxPage"] = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref("CaseSummary")},
            "next_cursor": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    }
    schemas["Thread"] = {
        "type": "object",
        "required": ["tracking_number", "items"],
        "properties": {"tracking_number": {"type": "string"}, "items": {"type": "array", "items": ref("ThreadEntry")}},
        "additionalProperties": False,
    }
    schemas["ActionResult"] = {
        "type": "object",
        "required": [
            "action",
            "tracking_number",
            "status",
            "unit",
            "assignee",
            "messages_queued",
            "notes",
            "other_case",
        ],
        "properties": {
            "action": {"enum": list(ACTIONS)},
            "tracking_number": {"type": "string"},
            "status": {"enum": list(CASE_STATUSES)},
            "unit": {"type": "string"},
            "assignee": {"type": ["string", "null"]},
            "messages_queued": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the channel of each message the action wrote (sent at once)",
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "other_case": {"type": ["string", "null"], "description": "merge: the target; split: the new case"},
        },
        "additionalProperties": False,
    }
    schemas["ActionFields"] = _action_fields()
    schemas["Decision"] = {
        "type": "object",
        "required": ["tracking_number", "suggestion", "decision"],
        "properties": {
            "tracking_number": {"type": "string"},
            "suggestion": {"type": "integer"},
            "decision": {"enum": ["confirm", "reject"]},
        },
        "additionalProperties": False,
    }
    schemas["Officer"] = {
        "type": "object",
        "required": ["id", "name", "role", "unit", "language"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "role": {"enum": list(ROLES)},
            "unit": {"type": ["string", "null"]},
            "language": {"enum": ["id", "en"]},
        },
        "additionalProperties": False,
    }
    schemas["Error"] = ERROR
    schemas.update(_public_schemas())
    return schemas


def _action_fields() -> Schema:
    text = {"type": "string", "maxLength": 20_000}
    note = {"type": "string", "maxLength": 2_000}
    return {
        "type": "object",
        "description": "The fields of the action (each action reads its own; others are ignored). "
        "A form posts the same names (repeated fields for the lists).",
        "properties": {
            "steps": {"type": "array", "items": {"enum": list(CHECKLIST)}, "description": "verify"},
            "complete": {"type": "boolean", "description": "verify: the file is complete"},
            "note": {**note, "description": "verify, forward, start, close, correct: for the audit trail"},
            "question": {**text, "description": "ask"},
            "missing": {"type": "array", "items": {"enum": list(MISSING_CONTENTS)}, "description": "ask"},
            "unit": {"type": "string", "maxLength": 320, "description": "forward, correct: a unit key"},
            "officer": {"type": "string", "maxLength": 320, "description": "assign: an officer's name, or `mine`"},
            "text": {**text, "description": "reply (required)"},
            "channel": {"type": "string", "maxLength": 320, "description": "reply: another channel of the reporter's"},
            "address": {"type": "string", "maxLength": 320, "description": "reply: which of their phones or emails"},
            "reason": {**note, "description": "extend, reject (required); merge, split"},
            "report": {**text, "description": "resolve (required): the follow-up report"},
            "kind": {"enum": list(KINDS), "description": "correct"},
            "into": {**TRACKING, "description": "merge (required): the case to merge into"},
            "messages": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "split (required): the thread's inbound message ids",
            },
        },
    }


def _public_schemas() -> dict[str, Schema]:
    email = nullable(
        {
            "type": "object",
            "required": ["state", "sent_at"],
            "properties": {"state": {"enum": ["pending", "sent", "failed"]}, "sent_at": {"type": ["string", "null"]}},
        }
    )
    return {
        "ReportSubmission": {
            "type": "object",
            "required": ["text"],
            "description": "A report; give an email or a phone (for the receipt). Unknown fields are ignored.",
            "properties": {
                "name": {"type": "string", "maxLength": 200},
                "email": {"type": "string", "maxLength": 254},
                "phone": {"type": "string", "maxLength": 40},
                "kind": {"enum": list(KINDS)},
                "subject": {"type": "string", "maxLength": 300},
                "text": {"type": "string", "minLength": 1, "maxLength": 20_000},
                "client_reference": {"type": "string", "maxLength": 200, "description": "idempotency key"},
                "anonymous": {"type": "boolean"},
            },
        },
        "ReportAccepted": {
            "type": "object",
            "required": ["id", "status_url", "duplicate"],
            "properties": {
                "id": {"type": "string"},
                "status_url": {"type": "string"},
                "duplicate": {"type": "boolean"},
            },
        },
        "ReportStatus": {
            "type": "object",
            "required": ["id", "status", "received_at", "tracking_number", "case_status", "receipt", "messages"],
            "properties": {
                "id": {"type": "string"},
                "status": {"enum": ["processing", "registered", "no_report", "failed", "rejected"]},
                "received_at": {"type": "string", "format": "date-time"},
                "tracking_number": {"type": ["string", "null"]},
                "case_status": {"type": ["string", "null"]},
                "receipt": nullable(
                    {
                        "type": "object",
                        "required": ["text", "delivered_at", "email"],
                        "properties": {"text": {"type": "string"}, "delivered_at": {"type": "string"}, "email": email},
                    }
                ),
                "messages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["purpose", "subject", "text", "delivered_at", "email"],
                        "properties": {
                            "purpose": {"type": "string"},
                            "subject": {"type": "string"},
                            "text": {"type": "string"},
                            "delivered_at": {"type": "string"},
                            "email": email,
                        },
                    },
                },
            },
        },
        "CaseStatus": {
            "type": "object",
            "description": "A confidential case's answer names no unit and no kind.",
            "required": ["tracking_number", "status", "status_text", "received_at", "next_deadline", "confidential"],
            "properties": {
                "tracking_number": {"type": "string"},
                "status": {"enum": list(CASE_STATUSES)},
                "status_text": {"type": "string"},
                "received_at": {"type": "string", "format": "date-time"},
                "received_text": {"type": "string"},
                "next_deadline": nullable(
                    {
                        "type": "object",
                        "required": ["kind", "due", "text"],
                        "properties": {
                            "kind": {"enum": ["first_response", "resolution"]},
                            "due": {"type": "string"},
                            "text": {"type": "string"},
                        },
                    }
                ),
                "confidential": {"type": "boolean"},
                "kind": {"type": "string"},
                "unit": {"type": "string"},
                "lapor_tracking_id": {"type": "string"},
            },
        },
    }


def _answer(description: str, schema: Schema | None = None, content: str = "application/json") -> Schema:
    answer: Schema = {"description": description}
    if schema is not None:
        answer["content"] = {content: {"schema": schema}}
    return answer


def _errors(*statuses: int) -> dict[str, Schema]:
    words = {
        400: "a filter, cursor or body that cannot be used",
        401: "no session or token (or a revoked one)",
        403: "the role may not do this (an auditor acts on nothing), or the CSRF token is missing",
        404: "no such case, or a case of another unit (the same answer)",
        409: "the procedure does not allow the action now (the reason says why)",
        413: "the body is too large",
        422: "a field is missing or wrong (`field` names it)",
        429: "too many requests; see Retry-After",
        503: "storage or the queue is away; see Retry-After",
    }
    return {str(status): _answer(words[status], ref("Error")) for status in statuses}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _paths() -> dict[str, Schema]:
    secured: list[Schema] = [{"bearer": []}, {"session": []}]
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": TRACKING}
    cases_filters = [
        _query("status", "a status, or `open` (neither closed nor rejected)", {"enum": [*CASE_STATUSES, "open"]}),
        _query("channel", "the channel the case came by", {"type": "string"}),
        _query("kind", "the kind", {"enum": list(KINDS)}),
        _query("unit", "a unit key (a unit officer sees their own unit whatever this says)", {"type": "string"}),
        _query("overdue", "only cases with a deadline missed now", {"type": "boolean"}),
        _query("confidential", "only (true) or no (false) confidential cases", {"type": "boolean"}),
        _query("assignee", "an officer's name, or `mine`", {"type": "string"}),
        _query(
            "q",
            f"text searched in the subject and the messages (at least {queries.MIN_SEARCH} characters)",
            {"type": "string"},
        ),
        _query(
            "limit", "cases per page", {"type": "integer", "minimum": 1, "maximum": queries.MAX_LIMIT, "default": 50}
        ),
        _query("cursor", "`next_cursor` of the previous page", {"type": "string"}),
    ]
    return {
        "/api/v1/reports": {
            "post": {
                "tags": ["reporters"],
                "summary": "Submit a report (JSON, multipart with attachments, or a plain form)",
                "security": [],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": ref("ReportSubmission")},
                        "multipart/form-data": {"schema": ref("ReportSubmission")},
                        "application/x-www-form-urlencoded": {"schema": ref("ReportSubmission")},
                    },
                },
                "responses": {
                    "202": _answer("stored; its status resource is `status_url`", ref("ReportAccepted")),
                    **_errors(400, 413, 422, 503),
                },
            }
        },
        "/api/v1/reports/{report_id}": {
            "get": {
                "tags": ["reporters"],
                "summary": "How far a submitted report got, and the messages written to the reporter",
                "security": [],
                "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _answer("the report", ref("ReportStatus")), **_errors(404)},
            }
        },
        "/api/v1/status": {
            "get": {
                "tags": ["reporters"],
                "summary": "A case's status by tracking number and the phone or email given with it",
                "security": [],
                "parameters": [
                    {"name": "tracking", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "contact", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": _answer("the case", ref("CaseStatus")), **_errors(400, 404, 429)},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "tags": ["officers"],
                "summary": "This document",
                "security": secured,
                "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"}), **_errors(401)},
            }
        },
        "/api/v1/officers/me": {
            "get": {
                "tags": ["officers"],
                "summary": "Who the session or token is",
                "security": secured,
                "responses": {"200": _answer("the officer", ref("Officer")), **_errors(401)},
            }
        },
        "/api/v1/cases": {
            "get": {
                "tags": ["officers"],
                "summary": "The officer's cases, by next deadline (a unit officer: their unit's only)",
                "description": "A confidential or anonymous case's reporter_name is null for a role "
                "not allowed to see it.",
                "security": secured,
                "parameters": cases_filters,
                "responses": {"200": _answer("a page", ref("InboxPage")), **_errors(400, 401)},
            }
        },
        "/api/v1/cases/{tracking_number}": {
            "get": {
                "tags": ["officers"],
                "summary": "One case: reporter and identities, deadlines, routing reason, audit trail, thread",
                "description": "A confidential or anonymous case's reporter is masked (`hidden`) for a role "
                "not allowed to see it; a view of it by a role allowed is recorded in the audit trail.",
                "security": secured,
                "parameters": [number],
                "responses": {"200": _answer("the case", ref("CaseDetail")), **_errors(401, 404)},
            }
        },
        "/api/v1/cases/{tracking_number}/messages": {
            "get": {
                "tags": ["officers"],
                "summary": "The case's thread: inbound and outbound messages of every channel, oldest first",
                "security": secured,
                "parameters": [number],
                "responses": {"200": _answer("the thread", ref("Thread")), **_errors(401, 404)},
            }
        },
        "/api/v1/cases/{tracking_number}/actions/{action}": {
            "post": {
                "tags": ["officers"],
                "summary": "An action of the procedure, recorded with the officer's name",
                "security": secured,
                "parameters": [
                    number,
                    {"name": "action", "in": "path", "required": True, "schema": {"enum": list(ACTIONS)}},
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {"schema": ref("ActionFields")},
                        "application/x-www-form-urlencoded": {"schema": ref("ActionFields")},
                        "multipart/form-data": {"schema": ref("ActionFields")},
                    },
                },
                "responses": {
                    "200": _answer("done", ref("ActionResult")),
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            }
        },
        "/api/v1/cases/{tracking_number}/suggestions/{claim_id}/{decision}": {
            "post": {
                "tags": ["officers"],
                "summary": "Confirm or reject a suggested link (`reporter.suggestions` of the case)",
                "description": "confirm: the case's reporter and the other one are one person (undone with "
                "`satupintu identities unlink`); reject: the suggestion is dismissed. Audited with the officer's name.",
                "security": secured,
                "parameters": [
                    number,
                    {"name": "claim_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "decision", "in": "path", "required": True, "schema": {"enum": ["confirm", "reject"]}},
                ],
                "responses": {
                    "200": _answer("done", ref("Decision")),
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/attachments/{attachment_id}": {
            "get": {
                "tags": ["officers"],
                "summary": "An attachment's bytes (`id` of an AttachmentInfo)",
                "security": secured,
                "parameters": [
                    {
                        "name": "attachment_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[am][0-9]+$"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the file, as the type it came with (Content-Disposition: attachment)",
                        "content": {"*/*": {"schema": {}}},
                    },
                    **_errors(401, 404),
                },
            }
        },
        "/api/v1/dashboard": {
            "get": {
                "tags": ["officers"],
                "summary": "Open cases per unit and channel, overdue cases, deadlines met this month, "
                "the satisfaction index, channel health",
                "security": secured,
                "responses": {"200": _answer("the figures", ref("Dashboard")), **_errors(401)},
            }
        },
        "/api/v1/changes": {
            "get": {
                "tags": ["officers"],
                "summary": "New cases and messages since a cursor (for live updates); without one, only the cursor",
                "security": secured,
                "parameters": [_query("cursor", "`cursor` of the previous answer", {"type": "string"})],
                "responses": {"200": _answer("what changed", ref("Changes")), **_errors(400, 401)},
            }
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "satupintu API",
            "version": VERSION,
            "description": "Reporters' endpoints (public) and the officers' console API (a session or "
            "`Authorization: Bearer <token>` from `satupintu officers token NAME`). Errors: "
            '`{"error": {"status", "reason", ...}}`.',
        },
        "tags": [{"name": "reporters"}, {"name": "officers"}],
        "paths": _paths(),
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "satupintu_session"},
            },
        },
    }
