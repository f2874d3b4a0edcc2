"""The public status lookup, for the cases of every channel: ``GET /status`` (an HTML form and
its answer, also posted, to keep the contact out of the address bar and the browser's history)
and ``GET /api/v1/status?tracking=…&contact=…``.

A reporter names the tracking number and the phone or email they gave. A wrong pair, an unknown
number and a malformed one get exactly the same answer after the same query (no oracle), and
every address gets a few lookups a minute (429 with ``Retry-After`` past them). A confidential
case's answer names no unit and no kind.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Engine

from config.settings import Settings
from connectors.base import json_error, page_templates
from normalizer.rules import CONTROL, normalize_email, normalize_phone
from public_pages.ratelimit import TokenBucket
from storage.db import reading
from storage.status import CaseStatus, case_for_reporter
from triage.receipt import format_moment
from triage.tracking import parse_tracking_number

STATUS_PAGE = "/status"
STATUS_API = "/api/v1/status"
NOT_RESPONDED = "received"
"""The case status until an officer first acts: the first-response deadline is the next one."""
MAX_TRACKING_CHARS = 64
MAX_CONTACT_CHARS = 320
NO_STORE = {"Cache-Control": "no-store"}

NOT_FOUND = "no case has this tracking number with this contact"
MISSING = "give both tracking (the tracking number) and contact (the phone or email given with the report)"
TOO_MANY = "too many status lookups from this address; try again later"
NOT_FOUND_TEXT = (
    "Tidak ada laporan dengan nomor tiket dan kontak tersebut. Periksa nomor tiket, dan isi email "
    "atau nomor HP yang sama dengan yang Anda berikan saat melapor."
)
MISSING_TEXT = "Isi nomor tiket dan email atau nomor HP yang Anda berikan saat melapor."
TOO_MANY_TEXT = "Terlalu banyak permintaan dari perangkat ini. Coba lagi dalam {seconds} detik."
KIND_TEXT = {"pengaduan": "Pengaduan", "aspirasi": "Aspirasi", "permintaan_informasi": "Permintaan informasi"}
DEADLINE_TEXT = {
    "first_response": "Tindak lanjut pertama paling lambat",
    "resolution": "Target penyelesaian paling lambat",
}

_NOBODY = ("", "")
"""What a malformed contact is looked up as: no identity has it."""

_TEMPLATES = page_templates("public_pages")


class StatusLookup:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.zone = settings.zone
        public = settings.public
        self.bucket = TokenBucket(public.status_lookups_per_minute / 60, public.status_lookup_burst)
        self.forwarded_for = public.forwarded_for

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(STATUS_PAGE, self.page),
            web.post(STATUS_PAGE, self.page_posted),
            web.get(STATUS_API, self.api),
        ]

    async def api(self, request: web.Request) -> web.Response:
        tracking, contact = request.query.get("tracking", ""), request.query.get("contact", "")
        if not tracking.strip() or not contact.strip():
            raise json_error(400, MISSING, headers=NO_STORE)
        wait = self.bucket.take(self._client(request))
        if wait:
            raise json_error(429, TOO_MANY, retry_after=math.ceil(wait), headers=NO_STORE)
        found = await self._find(tracking, contact)
        if found is None:
            raise json_error(404, NOT_FOUND, headers=NO_STORE)
        return web.json_response(case_view(found, self.zone), headers=NO_STORE)

    async def page(self, request: web.Request) -> web.Response:
        if "tracking" not in request.query and "contact" not in request.query:
            return _render(200)
        return await self._answer_page(request, request.query.get("tracking", ""), request.query.get("contact", ""))

    async def page_posted(self, request: web.Request) -> web.Response:
        # Any bytes at all: what does not decode cannot name a case, and is answered as such.
        form = dict(parse_qsl((await request.read()).decode("utf-8", "replace"), keep_blank_values=True))
        return await self._answer_page(request, form.get("tracking", ""), form.get("contact", ""))

    async def _answer_page(self, request: web.Request, tracking: str, contact: str) -> web.Response:
        if not tracking.strip() or not contact.strip():
            return _render(400, notice=MISSING_TEXT)
        wait = self.bucket.take(self._client(request))
        if wait:
            seconds = math.ceil(wait)
            notice = TOO_MANY_TEXT.format(seconds=seconds)
            return _render(429, notice=notice, headers={"Retry-After": str(seconds)})
        found = await self._find(tracking, contact)
        if found is None:
            return _render(404, notice=NOT_FOUND_TEXT)
        view = case_view(found, self.zone)
        return _render(200, case=view, kind_text=KIND_TEXT.get(found.kind, found.kind))

    async def _find(self, tracking: str, contact: str) -> CaseStatus | None:
        """The case, if the pair names one; malformed input runs the same query with values no row has."""
        number = _tracking_number(tracking) or ""
        kind, value = _identity(contact) or _NOBODY

        def read() -> CaseStatus | None:
            with reading(self.engine) as connection:
                return case_for_reporter(connection, number, kind, value)

        return await asyncio.to_thread(read)

    def _client(self, request: web.Request) -> str:
        """Whose bucket a lookup spends: the peer, or behind a proxy the address it forwarded."""
        if self.forwarded_for:
            hops = ",".join(request.headers.getall("X-Forwarded-For", []))
            last = hops.rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or ""


def case_view(case: CaseStatus, zone: ZoneInfo) -> dict[str, Any]:
    """The answer: state and next deadline (in the unit's zone); unit and kind unless confidential."""
    view: dict[str, Any] = {
        "tracking_number": case.tracking_number,
        "status": case.status,
        "status_text": _status_text(case),
        "received_at": case.received_at.astimezone(zone).isoformat(),
        "received_text": format_moment(case.received_at, zone),
        "next_deadline": _next_deadline(case, zone),
        "confidential": case.confidential,
    }
    if case.external_ref:
        view["lapor_tracking_id"] = case.external_ref
    if not case.confidential:
        view["kind"] = case.kind
        view["unit"] = case.unit_name
    return view


def _status_text(case: CaseStatus) -> str:
    if case.closed_at is not None:
        return "Selesai"
    if case.status == NOT_RESPONDED:
        return "Diterima, menunggu verifikasi petugas"
    if case.status == "waiting_reporter":  # the clock is stopped until they answer (docs/lifecycle.md)
        return "Menunggu keterangan dari Anda: balas pesan kami, batas waktu berhenti sampai Anda menjawab"
    return "Sedang ditindaklanjuti"


def _next_deadline(case: CaseStatus, zone: ZoneInfo) -> dict[str, str] | None:
    """The first response's deadline until an officer acted, then the resolution's; none once closed."""
    if case.closed_at is not None:
        return None
    kind, due = (
        ("first_response", case.first_response_due)
        if case.status == NOT_RESPONDED
        else ("resolution", case.resolution_due)
    )
    return {
        "kind": kind,
        "due": due.astimezone(zone).isoformat(),
        "text": f"{DEADLINE_TEXT[kind]} {format_moment(due, zone)}",
    }


def _tracking_number(text: str) -> str | None:
    if len(text) > MAX_TRACKING_CHARS or not _plain(text):
        return None
    number = parse_tracking_number(text)
    return str(number) if number is not None else None


def _identity(contact: str) -> tuple[str, str] | None:
    """The contact as the normalizer keeps it: a lower-case email, or a phone in E.164."""
    if len(contact) > MAX_CONTACT_CHARS or not _plain(contact):
        return None
    if "@" in contact:
        email = normalize_email(contact)
        return ("email", email) if email else None
    phone = normalize_phone(contact)
    return ("phone", phone) if phone else None


def _plain(text: str) -> bool:
    """Text that can name something stored: encodable, and without control characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not CONTROL.search(text)


def _render(
    status: int, *, notice: str | None = None, headers: Mapping[str, str] | None = None, **context: Any
) -> web.Response:
    text = _TEMPLATES.get_template("status.html").render(action=STATUS_PAGE, notice=notice, **context)
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers.update({**NO_STORE, **(headers or {})})
    return response
