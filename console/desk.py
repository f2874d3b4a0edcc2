"""The front desk's forms in the console: register a walk-in visitor or a received letter or fax.

The same path as ``satupintu walkin add`` / ``letter add`` (``connectors/_desk/registration.py``):
the registration is stored as a raw message, the running pipeline makes its case, tracking
number, deadlines and receipt copy, and the printed receipt is kept on the case for download.
Registering the same visit (queue number and day) or letter (agenda number) again is harmless;
another one under a number in use is refused.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import and_, select

from connectors._desk.registration import FrontDesk, NotTaken, OtherDetails, receipt_filename, register_message
from connectors.base import BlobRef, RawMessage
from connectors.letter.connector import MEDIA, MEDIUM_NAMES, letter
from connectors.walkin.connector import visit
from console.access import may_act
from console.auth import officer_of
from console.render import page, problem, translator
from storage.blobs import BlobStore
from storage.db import reading, transaction
from storage.tables import ATTACHMENTS

if TYPE_CHECKING:
    from pipeline.app import Parts
    from triage import lifecycle

WALKIN = "/console/register/walkin"
LETTER = "/console/register/letter"
KINDS = {"walkin": "walkin", "letter": "letter"}
WAIT_SECONDS = 15.0
"""How long a registration waits for its case before answering "stored, the number follows"."""
MAX_FILES = 10
TEXT_FIELDS = ("queue_number", "name", "nik", "medium", "agenda_number", "sender", "dated", "subject", "phone", "email")
LIMITS = {"text": 20_000, "answered": 20_000, "name": 255, "sender": 255, "subject": 255, "email": 320}
DEFAULT_LIMIT = 64
FIELD_KEYS = {
    "queue_number": "reg.queue_number",
    "nik": "reg.nik",
    "phone": "reg.phone",
    "email": "reg.email",
    "text": "reg.text",
    "medium": "reg.medium",
    "agenda_number": "reg.agenda_number",
    "sender": "reg.sender",
    "dated": "reg.dated",
    "subject": "reg.subject",
    "name": "reg.name",
    "answered": "reg.answered",
}


def setup(app: web.Application, parts: Parts) -> None:
    forms = DeskForms(parts)
    app.add_routes(
        [
            web.get(WALKIN, forms.show),
            web.post(WALKIN, forms.register),
            web.get(LETTER, forms.show),
            web.post(LETTER, forms.register),
        ]
    )


class DeskForms:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.blobs = BlobStore(parts.settings.blob_dir)
        self._lifecycle: lifecycle.Desk | None = None

    def _kind(self, request: web.Request) -> str:
        return "walkin" if request.path == WALKIN else "letter"

    async def show(self, request: web.Request) -> web.Response:
        officer = officer_of(request)
        if officer is None or not may_act(officer):
            return problem(request, 403, "error.forbidden")
        kind = self._kind(request)
        if kind not in self.parts.channels:
            return problem(request, 404, "reg.disabled", channel=kind)
        prefilled = {"medium": MEDIA[0], "queue_number": request.query.get("queue_number", "")[:DEFAULT_LIMIT]}
        return self._page(request, kind, prefilled)

    def _page(
        self, request: web.Request, kind: str, form: Mapping[str, str], status: int = 200, **extra: Any
    ) -> web.Response:
        return page(
            request,
            "register.html",
            status=status,
            section=kind,
            kind=kind,
            form=form,
            media=MEDIA,
            may_register=True,
            **extra,
        )

    async def register(self, request: web.Request) -> web.Response:
        officer = officer_of(request)
        if officer is None or not may_act(officer):
            return problem(request, 403, "error.forbidden")
        t = translator(request)
        kind = self._kind(request)
        try:
            posted = await request.post()
        except ValueError:  # a body that is not the form it claims to be (bytes that do not decode)
            return problem(request, 400, "error.bad_request", reason="the form could not be read")
        form = {name: _text(posted.get(name)) for name in (*TEXT_FIELDS, "text", "answered")}
        too_long = [name for name, value in form.items() if len(value) > LIMITS.get(name, DEFAULT_LIMIT)]
        if too_long:
            errors = [
                t("error.field", field=t(FIELD_KEYS[name]), reason=f"max {LIMITS.get(name, DEFAULT_LIMIT)}")
                for name in too_long
            ]
            return self._page(request, kind, form, 422, errors=errors)
        files = [f for f in posted.getall("attach", []) if isinstance(f, web.FileField) and f.filename]
        if len(files) > MAX_FILES:
            return self._page(
                request, kind, form, 422, errors=[t("error.bad_request", reason=f"max {MAX_FILES} files")]
            )
        kept = await asyncio.to_thread(self._keep, files)
        made = self._message(kind, form, kept)
        if isinstance(made, list):
            errors = [t("error.field", field=t(FIELD_KEYS.get(field, field)), reason=reason) for field, reason in made]
            return self._page(request, kind, form, 422, errors=errors)
        if made.channel not in self.parts.channels:
            return self._page(request, kind, form, 409, errors=[t("reg.disabled", channel=made.channel)])
        came_by = _came_by(kind, made, form)
        try:
            registration = await asyncio.to_thread(self._register, made, came_by)
        except OtherDetails as exc:
            return self._page(request, kind, form, 409, errors=[t("reg.other_details", key=str(exc))])
        except NotTaken as exc:
            return self._page(request, kind, form, 422, errors=[t("reg.dead", reason=str(exc))])
        result = {
            "tracking_number": registration.tracking_number,
            "receipt_id": None,
            "copy_via": registration.receipt_via if registration.receipt_state != "dead" else None,
        }
        if registration.tracking_number and registration.receipt_pdf:
            result["receipt_id"] = await asyncio.to_thread(
                self._receipt_id, registration.tracking_number, registration.receipt_pdf["sha256"]
            )
        if kind == "walkin" and form["answered"] and registration.tracking_number:
            result["answered"] = await asyncio.to_thread(
                self._answered, registration.tracking_number, officer.name, form["answered"]
            )
        blank = {"medium": form["medium"] or MEDIA[0]} if kind == "letter" else {}
        return self._page(request, kind, blank, 200, result=result)

    def _keep(self, files: list[web.FileField]) -> tuple[BlobRef, ...]:
        kept = []
        for file in files:
            data = file.file.read()
            name = (file.filename or "file")[:255]
            content_type = file.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            kept.append(BlobRef(filename=name, content_type=content_type, size=len(data), sha256=self.blobs.put(data)))
        return tuple(kept)

    def _message(
        self, kind: str, form: Mapping[str, str], kept: tuple[BlobRef, ...]
    ) -> RawMessage | list[tuple[str, str]]:
        zone = self.parts.settings.zone
        now = datetime.now(UTC)
        if kind == "walkin":
            return visit(
                queue_number=form["queue_number"],
                visited_at=now,
                zone=zone,
                name=form["name"] or None,
                nik=form["nik"] or None,
                phone=form["phone"] or None,
                email=form["email"] or None,
                text=form["text"],
                attachments=kept,
            )
        problems: list[tuple[str, str]] = []
        if form["medium"] not in MEDIA:
            problems.append(("medium", f"pilih {' / '.join(MEDIA)}"))
        dated = _date(form["dated"])
        if dated is None:
            problems.append(("dated", "tanggal tidak valid (YYYY-MM-DD)"))
        if problems:
            return problems
        return letter(
            medium=form["medium"],
            agenda_number=form["agenda_number"],
            sender=form["sender"],
            dated=dated,
            received_at=now,
            zone=zone,
            subject=form["subject"] or None,
            text=form["text"],
            phone=form["phone"] or None,
            email=form["email"] or None,
            attachments=kept,
        )

    def _register(self, message: RawMessage, came_by: str) -> Any:
        parts = self.parts
        publisher = parts.publisher()
        desk = FrontDesk(
            parts.engine,
            parts.topology,
            publisher,
            self.blobs,
            parts.settings.zone,
            parts.settings.survey.public_url,
        )
        try:
            return register_message(desk, message, came_by, WAIT_SECONDS)
        finally:
            publisher.close()

    def _answered(self, tracking_number: str, by: str, answer: str) -> str | None:
        """Records the answer given at the counter and closes the case; the reason it could not be."""
        from triage import lifecycle

        if self._lifecycle is None:
            self._lifecycle = lifecycle.Desk.from_parts(self.parts)
        try:
            with transaction(self.parts.engine) as writer:
                lifecycle.answered_at_desk(writer, self._lifecycle, tracking_number, by, answer=answer)
        except lifecycle.Refused as exc:
            return str(exc)
        return None

    def _receipt_id(self, tracking_number: str, sha256: str) -> str | None:
        with reading(self.parts.engine) as connection:
            found = connection.execute(
                select(ATTACHMENTS.c.id)
                .where(
                    and_(ATTACHMENTS.c.filename == receipt_filename(tracking_number), ATTACHMENTS.c.sha256 == sha256)
                )
                .order_by(ATTACHMENTS.c.id)
            ).scalar()
        return f"a{found}" if found is not None else None


def _came_by(kind: str, message: RawMessage, form: Mapping[str, str]) -> str:
    """How the printed receipt says it came, as the command line words it."""
    if kind == "walkin":
        return f"Kunjungan langsung, nomor antrian {message.external_id.rsplit(':', 1)[1]}"
    return f"{MEDIUM_NAMES[form['medium']]}, nomor agenda {message.external_id.split(':', 1)[1]}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
