"""The officers' JSON API under ``/api/v1/``: cases (filters, pagination), one case, its thread,
its actions, attachments, the dashboard, live changes, who is asking, and the OpenAPI document.

Logins and tokens are the middleware's (``console/auth.py``: no officer, no answer but 401); what
a role may see and do is ``console/access.py``'s; the reads are ``console/queries.py``'s and the
actions ``console/actions.py``'s, the same the pages use. What this module adds: parameters read
with a 400 for what cannot be used, the reporter of a protected case masked for a role not
allowed (``console/views.py``, as the pages; a view by one allowed is recorded before the
answer), and JSON in the shapes of ``console/openapi.py``. Every error leaves in the server's one
shape (``pipeline/errors.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import orjson
from aiohttp import web
from sqlalchemy import Connection

from console import actions, queries
from console.access import may_act, may_see_reporter, protected, record_identity_view, unit_scope
from console.auth import Officer, officer_of
from console.caseforms import decide_link
from console.openapi import CASE_COLUMNS, document
from console.views import masked_detail, masked_summary
from normalizer.rules import CONTROL
from pipeline.errors import json_error
from storage.blobs import BlobStore
from storage.db import reading, transaction, utcnow
from triage.tracking import parse_tracking_number

if TYPE_CHECKING:
    from pipeline.app import Parts

T = TypeVar("T")
PREFIX = "/api/v1"
TRUE = ("1", "true", "yes")
FALSE = ("0", "false", "no")
MAX_ACTION_BODY = 64 * 1024
MAX_PARAM = 500
_SAFE_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
DECISIONS = ("confirm", "reject")
PRIVATE = {"Cache-Control": "private, no-store"}
"""Answers about cases are an officer's: no shared cache keeps them."""


def setup(app: web.Application, parts: Parts) -> None:
    """Adds the officers' API routes to app (the reporters' are their connectors')."""
    api = Api(parts)
    app.add_routes(
        [
            web.get(f"{PREFIX}/openapi.json", api.openapi),
            web.get(f"{PREFIX}/officers/me", api.me),
            web.get(f"{PREFIX}/cases", api.cases),
            web.get(f"{PREFIX}/cases/{{tracking_number}}", api.case),
            web.get(f"{PREFIX}/cases/{{tracking_number}}/messages", api.messages),
            web.post(f"{PREFIX}/cases/{{tracking_number}}/actions/{{action}}", api.act),
            web.post(f"{PREFIX}/cases/{{tracking_number}}/suggestions/{{claim_id}}/{{decision}}", api.decide),
            web.get(f"{PREFIX}/attachments/{{attachment_id}}", api.attachment),
            web.get(f"{PREFIX}/dashboard", api.dashboard),
            web.get(f"{PREFIX}/changes", api.changes),
        ]
    )

    async def release(_app: web.Application) -> None:
        actions.release(parts)

    app.on_cleanup.append(release)


class Api:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.blobs = BlobStore(parts.settings.blob_dir)

    async def openapi(self, request: web.Request) -> web.Response:
        return _json(document(), private=False)

    async def me(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        return _json(plain(officer))

    async def cases(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        wanted, limit, cursor = _inbox_query(request.query, officer)
        page = await self._read(lambda c: queries.inbox(c, unit_scope(officer), wanted, limit=limit, cursor=cursor))
        items = [self._summary(officer, item) for item in page.items]
        return _json({"items": items, "next_cursor": page.next_cursor})

    async def case(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        detail = await self._detail(request, officer)
        shown = await asyncio.to_thread(self._shown, officer, detail)
        return _json(shown)

    async def messages(self, request: web.Request) -> web.Response:
        """The thread alone, masked (errors that may quote the reporter) as the whole case is."""
        officer = _officer(request)
        detail = await self._detail(request, officer)
        shown = await asyncio.to_thread(self._shown, officer, detail)
        return _json({"tracking_number": detail.case["tracking_number"], "items": shown["thread"]})

    async def act(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        fields = await _action_fields(request)
        try:
            result = await actions.run_action(
                self.parts, officer, request.match_info["tracking_number"], request.match_info["action"], fields
            )
        except actions.ActionRefused as exc:
            raise json_error(exc.status, exc.reason, code=exc.code, field=exc.field) from None
        return _json(plain(result))

    async def decide(self, request: web.Request) -> web.Response:
        """Confirm (the two reporters are one person) or dismiss a suggested link, as the case page
        does (``console.caseforms.decide_link``); audited with the officer's name."""
        officer = _officer(request)
        if not may_act(officer):
            raise json_error(403, "this role is read-only: it confirms and dismisses nothing", code="forbidden")
        number = _canonical(request.match_info["tracking_number"])
        raw_id, decision = request.match_info["claim_id"], request.match_info["decision"]
        if decision not in DECISIONS or not raw_id.isdigit() or len(raw_id) > 18:
            raise json_error(404, f"no such suggestion on {number}")

        def write() -> bool:
            with transaction(self.parts.engine) as connection:
                return decide_link(connection, number, int(raw_id), decision, officer.name, unit_scope(officer))

        if not await asyncio.to_thread(write):
            raise json_error(404, f"no open suggestion {raw_id} on case {number}")
        return _json({"tracking_number": number, "suggestion": int(raw_id), "decision": decision})

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        officer = _officer(request)
        wanted = request.match_info["attachment_id"]
        found = await self._read(lambda c: queries.attachment(c, wanted, unit_scope(officer)))
        if found is None:
            raise json_error(404, f"no attachment {wanted}")
        try:
            data = await asyncio.to_thread(self.blobs.get, found.sha256)
        except FileNotFoundError:
            raise json_error(404, f"attachment {wanted}: its file is not in the blob store") from None
        kind = found.content_type if _SAFE_TYPE.match(found.content_type or "") else "application/octet-stream"
        headers = {
            **PRIVATE,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename or wanted, safe='')}",
            "X-Content-Type-Options": "nosniff",
        }
        return web.Response(body=data, content_type=kind, headers=headers)

    async def dashboard(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        settings = self.parts.settings
        channels = sorted(self.parts.channels)
        found = await self._read(
            lambda c: queries.dashboard(c, unit_scope(officer), utcnow(), channels=channels, zone=settings.zone)
        )
        shown = dataclasses.replace(found, overdue=[self._masked_summary(officer, s) for s in found.overdue])
        return _json(plain(shown))

    async def changes(self, request: web.Request) -> web.Response:
        officer = _officer(request)
        cursor = _param(request.query, "cursor")
        found = await self._read(lambda c: queries.changes_since(c, unit_scope(officer), cursor))
        shown = dataclasses.replace(found, cases=[self._masked_summary(officer, s) for s in found.cases])
        return _json(plain(shown))

    # --- helpers ---------------------------------------------------------------------------------

    async def _read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with reading(self.parts.engine) as connection:
                return query(connection)

        try:
            return await asyncio.to_thread(run)
        except queries.BadQuery as exc:
            raise json_error(400, str(exc)) from None

    async def _detail(self, request: web.Request, officer: Officer) -> queries.CaseDetail:
        reference = request.match_info["tracking_number"]
        number = _canonical(reference)
        detail = await self._read(lambda c: queries.case_detail(c, number, unit_scope(officer)))
        if detail is None:
            raise json_error(404, f"no case {number}")
        return detail

    def _shown(self, officer: Officer, detail: queries.CaseDetail) -> dict[str, Any]:
        """The case as the officer may see it; a protected reporter shown is recorded first."""
        case = detail.case
        if protected(case):
            if may_see_reporter(self.parts.settings.access, officer, case):
                with transaction(self.parts.engine) as writer:
                    record_identity_view(writer, officer, case["id"])
            else:
                detail = masked_detail(detail)
        shown: dict[str, Any] = plain(detail)
        shown["case"] = {name: plain(detail.case.get(name)) for name in CASE_COLUMNS}
        return shown

    def _summary(self, officer: Officer, summary: queries.CaseSummary) -> dict[str, Any]:
        shown: dict[str, Any] = plain(self._masked_summary(officer, summary))
        return shown

    def _masked_summary(self, officer: Officer, summary: queries.CaseSummary) -> queries.CaseSummary:
        case = {"confidential": summary.confidential, "anonymous": summary.anonymous, "unit": summary.unit}
        if protected(case) and not may_see_reporter(self.parts.settings.access, officer, case):
            return masked_summary(summary)
        return summary


def _canonical(reference: str) -> str:
    """The tracking number in its canonical form; 404 for what is none (never looked up)."""
    parsed = parse_tracking_number(reference) if len(reference) <= actions.MAX_REFERENCE else None
    if parsed is None:
        shown = reference if reference.isprintable() and len(reference) <= actions.MAX_REFERENCE else "?"
        raise json_error(404, f"no case {shown}")
    return str(parsed)


def _officer(request: web.Request) -> Officer:
    """The middleware answers 401 before a handler runs; this is the handler's own guard."""
    officer = officer_of(request)
    if officer is None:
        raise json_error(401, "log in, or send Authorization: Bearer <token>")
    return officer


def _inbox_query(query: Mapping[str, str], officer: Officer) -> tuple[queries.InboxFilter, int, str | None]:
    assignee = _param(query, "assignee")
    wanted = queries.InboxFilter(
        status=_param(query, "status"),
        channel=_param(query, "channel"),
        kind=_param(query, "kind"),
        unit=_param(query, "unit"),
        overdue=_flag(query, "overdue") or False,
        confidential=_flag(query, "confidential"),
        assignee=officer.name if assignee == actions.MINE else assignee,
        text=_param(query, "q"),
    )
    text = _param(query, "limit") or "50"
    if not text.isdigit() or not 1 <= int(text) <= queries.MAX_LIMIT:
        raise json_error(400, f"limit must be a whole number from 1 to {queries.MAX_LIMIT}")
    return wanted, int(text), _param(query, "cursor")


def _param(query: Mapping[str, str], name: str) -> str | None:
    """A query parameter, None when empty; 400 for one no stored value can match (too long, or
    with control characters: PostgreSQL refuses a NUL byte outright)."""
    value = query.get(name, "")
    if len(value) > MAX_PARAM or CONTROL.search(value):
        raise json_error(400, f"{name}: at most {MAX_PARAM} characters, without control characters")
    return value or None


def _flag(query: Mapping[str, str], name: str) -> bool | None:
    value = (_param(query, name) or "").lower()
    if not value:
        return None
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise json_error(400, f"{name} must be true or false")


async def _action_fields(request: web.Request) -> Mapping[str, Any]:
    """The action's fields: a JSON object, a form, or nothing (an action without fields)."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return await request.post()
    if request.content_length is not None and request.content_length > MAX_ACTION_BODY:
        raise json_error(413, f"an action's body is at most {MAX_ACTION_BODY} bytes")
    body = await request.read()
    if not body.strip():
        return {}
    if request.content_type != "application/json":
        raise json_error(400, "send the fields as application/json (an object) or as a form")
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None
    if not isinstance(fields, dict):
        raise json_error(400, "the body must be a JSON object of the action's fields")
    return fields


def plain(value: Any) -> Any:
    """A value as JSON has it: dataclasses as objects (with the properties the document names),
    datetimes in ISO 8601, durations in seconds, decimals as numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, queries.AttachmentInfo):
            shown["available"] = value.available
        return shown
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _json(data: Any, *, private: bool = True) -> web.Response:
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(body=body, content_type="application/json", headers=PRIVATE if private else None)
