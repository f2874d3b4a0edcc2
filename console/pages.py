"""The console's pages under ``/console/``: the inbox, a case, its attachments, the dashboard, and
the language switch; the forms of a case (``console/caseforms.py``), the desk's registrations
(``console/desk.py``) and the live updates (``console/live.py``) are mounted from here too.

Every page reads through ``console.queries`` with the officer's scope, so a unit officer asking
for another unit's case gets the same 404 page as for a case that does not exist. The login
middleware (``console/auth.py``) has already sent anyone without a session to the login page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from config.routing import KINDS
from console import caseforms, desk, i18n, live, pageviews, queue_pages
from console.access import may_act, may_see_reporter, protected, record_identity_view, unit_scope
from console.auth import Officer, officer_of, safe_next
from console.queries import MIN_SEARCH, BadQuery, CaseDetail, InboxFilter, attachment, case_detail, dashboard, inbox
from console.render import DESK_KEY, LANGUAGE_KEY, QUEUE_KEY, ZONE_KEY, page, problem, translator
from console.views import masked_detail
from storage.blobs import BlobStore
from storage.db import reading, transaction, utcnow
from storage.models import CASE_STATUSES
from storage.officers import active_officers_of_unit
from triage.tracking import parse_tracking_number
from visitor_queue.figures import day_figures

if TYPE_CHECKING:
    from pipeline.app import Parts

HOME = "/console/"
INBOX = "/console/inbox"
CASE = "/console/cases/{tracking_number}"
ATTACHMENT = "/console/attachments/{attachment_id}"
DASHBOARD = "/console/dashboard"
LANGUAGE = "/console/lang"
STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 50
MAX_TRACKING_CHARS = 64
MAX_QUERY_CHARS = 200
SAFE_INLINE = frozenset(pageviews.VIEWABLE)
FLAG_VALUES = frozenset({"1", "on", "true", "yes"})


def setup(app: web.Application, parts: Parts) -> None:
    """Adds the console's pages to ``app`` (the server the webhooks and public pages are on)."""
    app[ZONE_KEY] = parts.settings.zone
    app[LANGUAGE_KEY] = parts.settings.console.language
    app[DESK_KEY] = frozenset(parts.channels) & {"walkin", "letter"}
    app[QUEUE_KEY] = parts.settings.queue.enabled
    pages = Pages(parts)
    app.add_routes(
        [
            web.get(HOME, pages.home),
            web.get("/console", pages.home),
            web.get(INBOX, pages.inbox),
            web.get(CASE, pages.case),
            web.get(ATTACHMENT, pages.attachment),
            web.get(DASHBOARD, pages.dashboard),
            web.get(LANGUAGE, pages.language),
            web.static("/console/static", STATIC, append_version=False),
        ]
    )
    caseforms.setup(app, parts, pages.case_page)
    desk.setup(app, parts)
    queue_pages.setup(app, parts)
    live.setup(app, parts)


def signed_in(request: web.Request) -> Officer:
    """The request's officer: the middleware lets no request without one reach these handlers."""
    officer = officer_of(request)
    if officer is None:  # only if the middleware was not installed: fail closed
        raise web.HTTPSeeOther("/console/login")
    return officer


class Pages:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.engine = parts.engine
        self.units = {key: parts.routing.unit(key).name for key in parts.routing.unit_keys}
        self.blobs = BlobStore(parts.settings.blob_dir)

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther(INBOX)

    async def language(self, request: web.Request) -> web.StreamResponse:
        """``?to=en&next=/console/...``: remember the language, go back to the page."""
        wanted = request.query.get("to", "")
        response = web.HTTPSeeOther(safe_next(request.query.get("next")))
        if wanted in i18n.LANGUAGES:
            response.set_cookie(
                i18n.COOKIE, wanted, max_age=365 * 86_400, path="/console/", httponly=True, samesite="Lax"
            )
        raise response

    # --- the inbox ---------------------------------------------------------------------------------

    async def inbox(self, request: web.Request) -> web.Response:
        officer = signed_in(request)
        t = translator(request)
        scope = unit_scope(officer)
        wanted, error = self._wanted(request, officer)
        if error is not None:
            return problem(request, 400, "error.bad_request", reason=error)
        cursor = request.query.get("cursor") or None
        now = utcnow()

        def read() -> Any:
            with reading(self.engine) as connection:
                return inbox(connection, scope, wanted, limit=PAGE_SIZE, cursor=cursor, now=now)

        try:
            found = await asyncio.to_thread(read)
        except BadQuery as exc:
            return problem(request, 400, "error.bad_request", reason=str(exc))
        rows = [pageviews.summary_row(t, case, self.units, now) for case in found.items]
        form = self._form_values(request)
        heading = t("inbox.title_unit", unit=self.units.get(scope, scope)) if scope else t("inbox.title")
        return page(
            request,
            "inbox.html",
            section="inbox",
            heading=heading,
            rows=rows,
            wanted=form,
            filtered=any(form.values()),
            options=self._options(scope),
            next_url=self._page_url(form, found.next_cursor) if found.next_cursor else None,
            first_url=self._page_url(form, None) if cursor else None,
            live=live.LIVE,
            may_register=may_act(officer),
        )

    def _wanted(self, request: web.Request, officer: Officer) -> tuple[InboxFilter, str | None]:
        """The filters of the query string, or why they cannot be used."""
        query = request.query
        text = query.get("q", "").strip()
        if len(text) > MAX_QUERY_CHARS:
            return InboxFilter(), f"q: at most {MAX_QUERY_CHARS} characters"
        if text and len(text) < MIN_SEARCH:
            return InboxFilter(), f"q: at least {MIN_SEARCH} characters"
        status = query.get("status") or "open"
        if status != "open" and status not in CASE_STATUSES:
            return InboxFilter(), f"status: {status!r} is not a status"
        kind = query.get("kind") or None
        if kind is not None and kind not in KINDS:
            return InboxFilter(), f"kind: {kind!r} is not a kind"
        unit = query.get("unit") or None
        if unit is not None and unit not in self.units:
            return InboxFilter(), f"unit: {unit!r} is not a unit"
        channel = query.get("channel") or None
        if channel is not None and channel not in self._channels():
            return InboxFilter(), f"channel: {channel!r} is not a channel"
        confidential = True if query.get("confidential", "").lower() in FLAG_VALUES else None
        mine = query.get("mine", "").lower() in FLAG_VALUES
        return (
            InboxFilter(
                status=status,
                channel=channel,
                kind=kind,
                unit=unit,
                overdue=query.get("overdue", "").lower() in FLAG_VALUES,
                confidential=confidential,
                assignee=officer.name if mine else None,
                text=text or None,
            ),
            None,
        )

    @staticmethod
    def _form_values(request: web.Request) -> dict[str, Any]:
        query = request.query
        return {
            "q": query.get("q", "").strip(),
            "status": query.get("status", ""),
            "channel": query.get("channel", ""),
            "kind": query.get("kind", ""),
            "unit": query.get("unit", ""),
            "overdue": query.get("overdue", "").lower() in FLAG_VALUES,
            "confidential": query.get("confidential", "").lower() in FLAG_VALUES,
            "mine": query.get("mine", "").lower() in FLAG_VALUES,
        }

    def _channels(self) -> list[str]:
        return sorted(set(self.parts.channels) | set(self.parts.settings.connectors))

    def _options(self, scope: str | None) -> dict[str, Any]:
        return {
            "statuses": CASE_STATUSES,
            "channels": self._channels(),
            "kinds": KINDS,
            "units": [] if scope is not None else sorted(self.units.items(), key=lambda item: item[1]),
        }

    @staticmethod
    def _page_url(form: Mapping[str, Any], cursor: str | None) -> str:
        query = {key: ("1" if value is True else value) for key, value in form.items() if value}
        if cursor:
            query["cursor"] = cursor
        return f"{INBOX}?{urlencode(query)}" if query else INBOX

    # --- a case --------------------------------------------------------------------------------------

    async def case(self, request: web.Request) -> web.Response:
        number = request.match_info["tracking_number"]
        parsed = parse_tracking_number(number) if len(number) <= MAX_TRACKING_CHARS else None
        if parsed is not None and str(parsed) != number:  # typed in lower case, or with spaces
            raise web.HTTPSeeOther(f"/console/cases/{parsed}")
        done = "done" in request.query  # back from a form that acted
        return await self.case_page(request, number, done=done)

    async def case_page(
        self,
        request: web.Request,
        tracking_number: str,
        *,
        status: int = 200,
        notes: tuple[str, ...] = (),
        error: str | None = None,
        open_form: str | None = None,
        done: bool = False,
    ) -> web.Response:
        """The case page; also the answer of a form posted on it (its notes, or why it was refused)."""
        officer = signed_in(request)
        t = translator(request)
        scope = unit_scope(officer)
        access = self.parts.settings.access
        now = utcnow()

        def read() -> tuple[CaseDetail | None, bool, list[dict[str, str]], list[str]]:
            with reading(self.engine) as connection:  # a read does not wait for the pipeline's writes
                detail = case_detail(connection, tracking_number, scope, now=now)
                if detail is None:
                    return None, False, [], []
                visible = may_see_reporter(access, officer, detail.case)
                ways: list[dict[str, str]] = []
                staff: list[str] = []
                if may_act(officer):
                    ways = caseforms.reply_ways(self.parts, connection, detail.case["id"])
                    staff = [row["name"] for row in active_officers_of_unit(connection, detail.case["unit"])]
            if visible and protected(detail.case):
                with transaction(self.engine) as writer:  # recorded before anything is shown
                    record_identity_view(writer, officer, detail.case["id"])
            return detail, visible, ways, staff

        detail, visible, ways, staff = await asyncio.to_thread(read)
        if detail is None:
            return problem(request, 404, "error.not_found")
        if not visible:
            detail = masked_detail(detail)
        case = dict(detail.case)
        case["unit_name"] = self.units.get(case["unit"], case["unit"])
        case["missing_text"] = ", ".join(t.code("missing", item) for item in case.get("missing") or [])
        case["checklist"] = case.get("checklist") or {}
        thread = pageviews.thread_view(detail.thread)
        deadlines = pageviews.deadlines_view(t, detail.deadlines)
        history = {event.action for event in detail.events}
        forms = caseforms.forms_for(case, history, open_form) if may_act(officer) else []
        return page(
            request,
            "case.html",
            status=status,
            section="inbox",
            case=case,
            case_number=case["tracking_number"],
            thread=thread,
            reporter=pageviews.reporter_view(detail.reporter, visible=visible, protected=protected(case)),
            deadlines=deadlines,
            next_due=min((d for d in deadlines if d["running"]), key=lambda d: d["due"], default=None),
            routing=detail.routing_rules,
            visits=pageviews.queue_visits_view(t, detail.queue_visits, self.parts.settings.queue),
            audit=pageviews.audit_view(t, detail.events),
            forms=forms,
            choices=caseforms.choices(self.parts, case, ways, visible, staff),
            read_only=not may_act(officer),
            may_act=may_act(officer),
            may_register=may_act(officer),
            notes=list(notes),
            error=error,
            flash=t("case.done") if done else None,
            live=live.LIVE,
        )

    # --- an attachment -------------------------------------------------------------------------------

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        """The file, shown in the browser when it is of a type a browser shows safely, else (or
        with ``?download=1``) downloaded; never sniffed, never run as a page of this site."""
        officer = signed_in(request)
        wanted = request.match_info["attachment_id"]
        scope = unit_scope(officer)

        def read() -> tuple[Any, bytes | None]:
            with reading(self.engine) as connection:
                found = attachment(connection, wanted, scope)
            if found is None:
                return None, None
            try:
                return found, self.blobs.get(found.sha256)
            except (FileNotFoundError, KeyError):
                return found, None

        found, data = await asyncio.to_thread(read)
        if found is None or data is None:
            return problem(request, 404, "error.not_found")
        kind = found.content_type.split(";", 1)[0].strip().lower()
        inline = kind in SAFE_INLINE and request.query.get("download") != "1"
        disposition = "inline" if inline else "attachment"
        filename = _header_filename(found.filename)
        headers = {
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        }
        if kind != "application/pdf":  # browsers refuse to show a sandboxed PDF; their viewers run apart anyway
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
        return web.Response(body=data, content_type=kind if inline else "application/octet-stream", headers=headers)

    # --- the dashboard -------------------------------------------------------------------------------

    async def dashboard(self, request: web.Request) -> web.Response:
        officer = signed_in(request)
        t = translator(request)
        scope = unit_scope(officer)
        now = utcnow()
        zone = self.parts.settings.zone

        queue = self.parts.settings.queue
        today = now.astimezone(zone).date()

        def read() -> Any:
            with reading(self.engine) as connection:
                board = dashboard(connection, scope, now, channels=self._channels(), zone=zone)
                return board, day_figures(connection, queue, today, today) if queue.enabled else []

        board, queue_today = await asyncio.to_thread(read)
        return page(
            request,
            "dashboard.html",
            section="dashboard",
            board=dashboard_view(t, board, self.units, now),
            queue_today=queue_today,
            live=live.LIVE,
            may_register=may_act(officer),
        )


def dashboard_view(t: i18n.Translator, board: Any, units: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The dashboard's figures as the page lists them."""
    met = sum(d.met for d in board.deadlines)
    total = sum(d.met + d.late + d.missed_open for d in board.deadlines)
    overall = next((index for index in board.skm if getattr(index, "unit", None) is None), None)
    if overall is None and len(board.skm) == 1:
        overall = board.skm[0]
    skm = None
    if overall is not None:
        skm = {"value": f"{overall.converted:.2f}", "grade": overall.grade}
    return {
        "per_unit": sorted(((units.get(k, k), n) for k, n in board.open_by_unit.items()), key=lambda x: -x[1]),
        "per_channel": sorted(board.open_by_channel.items(), key=lambda x: -x[1]),
        "overdue": [pageviews.summary_row(t, case, units, now) for case in board.overdue],
        "overdue_count": board.overdue_count,
        "met": met,
        "met_total": total,
        "skm": skm,
        "health": [
            {
                "channel": ch.channel,
                "last_inbound": ch.last_inbound,
                "bad": ch.red,
                "problem": "; ".join(_health_reason(t, reason) for reason in ch.reasons),
            }
            for ch in board.channels
        ],
    }


def _health_reason(t: i18n.Translator, reason: str) -> str:
    """``send_down: <the channel's words>`` with its code named in the page's language."""
    code, _, words = reason.partition(": ")
    name = t.code("health", code)
    return f"{name}: {words}" if words else name


def _header_filename(name: str) -> str:
    """A filename that cannot break out of the header: printable ASCII without quotes."""
    cleaned = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return cleaned[:200] or "file"
