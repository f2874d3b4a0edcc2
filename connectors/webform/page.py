"""The public report page, ``/pengaduan``: a plain HTML form in Indonesian, no JavaScript needed.

It posts (multipart, so that files can come along) into the same ingestion path as the app's
API, then redirects (303) to the report's own page, so that reloading it never posts again.
That page shows the tracking number as soon as triage issued it, refreshing itself until then,
and every message written to the reporter (receipt, replies, follow-up report, survey link).
A hidden ``client_reference`` drawn when the form is shown makes a double submit one report.
``/pengaduan/formulir.pdf`` is the same report on paper (``paper_form``), for whoever prefers
to write it by hand and bring or post it: it comes back as a letter.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from connectors.base import Ingest, ReceiptStatus, page_templates, size_text
from connectors.webform import body
from connectors.webform.api import public_status, report_status
from connectors.webform.ids import ReportIds
from connectors.webform.intake import Intake
from connectors.webform.paper_form import DEFAULT_OFFICE, paper_form_pdf
from connectors.webform.schema import MAX_ATTACHMENTS, InvalidSubmission, Problem

PAGE_PATH = "/pengaduan"
STATUS_PAGE = "/status"
"""The public status page (package ``public_pages``), where a tracking number and a contact are asked."""
REFRESH_SECONDS = 3
HTML = "text/html"
PAPER_FORM_PATH = PAGE_PATH + "/formulir.pdf"
"""The printable form; a report id (``<digits>-<hex>``, ``ids.py``) can never be this name."""
PAPER_FORM_FILENAME = "formulir-pengaduan.pdf"
PAPER_FORM_MAX_AGE = 24 * 60 * 60

FIELD_MESSAGES = {
    "missing": "wajib diisi",
    "string_too_short": "wajib diisi",
    "string_too_long": "terlalu panjang: paling banyak {limit} karakter",
    "literal_error": "pilih salah satu jenis laporan yang tersedia",
    "bad_email": "bukan alamat email yang benar",
    "bad_phone": "bukan nomor telepon yang dapat dihubungi",
    "no_contact": "isi alamat email atau nomor HP agar kami dapat mengirim nomor tiket",
    "string_pattern_mismatch": "formulir tidak lengkap: muat ulang halaman lalu kirim lagi",
}
FIELD_MESSAGE_OTHERWISE = "isian ini tidak dapat kami terima"
UNREADABLE = "Formulir tidak dapat dibaca. Muat ulang halaman lalu kirim lagi."
REFUSALS = {
    "too_large": "Kiriman terlalu besar: paling banyak {size}, lampiran termasuk. Kecilkan atau kurangi lampiran.",
    "too_many_files": f"Paling banyak {MAX_ATTACHMENTS} lampiran.",
    "reused_key": "Formulir ini sudah pernah dikirim dengan isi lain. Jika ini laporan baru, tekan Kirim sekali lagi.",
    "storage": "Laporan belum dapat kami simpan karena gangguan sistem. Coba kirim lagi sebentar lagi.",
}
INVALID = "Ada isian yang perlu diperbaiki; lihat keterangan merah di bawah."
FILES_AGAIN = "Lampiran tidak ikut terkirim: pilih lagi berkasnya."

_TEMPLATES = page_templates("connectors.webform")


class ReportPage:
    def __init__(
        self,
        intake: Intake,
        ids: ReportIds,
        ingest: Ingest,
        zone: ZoneInfo,
        public_url: str = "http://127.0.0.1:8080",
        office: str = DEFAULT_OFFICE,
    ) -> None:
        self.intake = intake
        self.ids = ids
        self.ingest = ingest
        self.zone = zone
        self.public_url = public_url
        self.office = office

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(PAGE_PATH, self.form),
            web.post(PAGE_PATH, self.submit),
            web.get(PAPER_FORM_PATH, self.paper_form),  # before the report's page: not a report id
            web.get(PAGE_PATH + "/{report_id}", self.report),
        ]

    async def paper_form(self, request: web.Request) -> web.Response:
        """The blank form as a download; the same for everyone, so any cache may keep it."""
        pdf, etag = _paper_form(self.office, self.public_url)
        headers = {"Cache-Control": f"public, max-age={PAPER_FORM_MAX_AGE}", "ETag": etag}
        wanted = _etags(request.headers.get("If-None-Match", ""))
        if etag in wanted or "*" in wanted:
            return web.Response(status=304, headers=headers)
        headers["Content-Disposition"] = f'attachment; filename="{PAPER_FORM_FILENAME}"'
        return web.Response(body=pdf, content_type="application/pdf", headers=headers)

    async def form(self, request: web.Request) -> web.Response:
        return _form(request, status=200, values={})

    async def submit(self, request: web.Request) -> web.Response:
        try:
            posted = await body.read(request)
        except body.Refused as exc:
            return _refused(request, exc, values={})
        try:
            accepted = await self.intake.submit(posted, None, request.content_type)
        except InvalidSubmission as exc:
            notices = [INVALID, FILES_AGAIN] if posted.uploads else [INVALID]
            errors = {name: _field_message(problem) for name, problem in exc.problems.items()}
            return _form(request, status=422, values=posted.form, errors=errors, notices=notices)
        except body.Refused as exc:
            return _refused(request, exc, values=posted.form)
        raise web.HTTPSeeOther(f"{PAGE_PATH}/{accepted.report_id}")

    async def report(self, request: web.Request) -> web.Response:
        report_id = request.match_info["report_id"]
        found = await report_status(self.ids, self.ingest, report_id)
        if found is None:
            return _render("missing.html", status=404)
        return _render(
            "report.html",
            report_id=report_id,
            state=public_status(found),
            tracking_number=found.tracking_number,
            messages=[_message(sent, self.zone) for sent in found.sent],
            refresh_seconds=REFRESH_SECONDS,
            status_page=STATUS_PAGE,
        )


def _form(
    request: web.Request,
    *,
    status: int,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    notices: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    response = _render(
        "form.html",
        status=status,
        values=values,
        reference=values.get("client_reference") or uuid.uuid4().hex,
        errors=errors or {},
        notices=notices or [],
        max_files=MAX_ATTACHMENTS,
        max_size=size_text(request.client_max_size),
    )
    response.headers.update(headers or {})
    return response


@functools.cache
def _paper_form(office: str, public_url: str) -> tuple[bytes, str]:
    """Built at its first download, then kept for the process: the form never changes while it runs."""
    pdf = paper_form_pdf(office, public_url)
    return pdf, f'"{hashlib.sha256(pdf).hexdigest()[:32]}"'


def _etags(header: str) -> set[str]:
    """The tags an ``If-None-Match`` names (weak ones as their strong twins; ``*`` is any)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _refused(request: web.Request, refused: body.Refused, *, values: Mapping[str, Any]) -> web.Response:
    kept = dict(values)
    if refused.code == "reused_key":
        kept.pop("client_reference", None)  # a new reference: pressing Kirim again makes a new report
    notice = REFUSALS.get(refused.code, UNREADABLE).format(size=size_text(request.client_max_size))
    headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after is not None else None
    return _form(request, status=refused.status, values=kept, notices=[notice], headers=headers)


def _render(template: str, *, status: int = 200, **context: Any) -> web.Response:
    text = _TEMPLATES.get_template(template).render(page=PAGE_PATH, **context)
    return web.Response(text=text, status=status, content_type=HTML, charset="utf-8")


def _message(sent: ReceiptStatus, zone: ZoneInfo) -> dict[str, str]:
    """A message written to the reporter, as the page lists it: when (in the unit's zone), subject, text."""
    local = sent.written_at.astimezone(zone)
    return {
        "when": f"{local:%d-%m-%Y %H.%M} {local.tzname() or ''}".strip(),
        "subject": sent.subject,
        "text": sent.text,
    }


def _field_message(problem: Problem) -> str:
    return FIELD_MESSAGES.get(problem.code, FIELD_MESSAGE_OTHERWISE).format(limit=problem.limit)
