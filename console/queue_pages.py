"""The walk-in desk's queue in the console: the door's page (take a number, print its ticket), a
page per counter (call, call again, not present, served, came back) and the waiting room's display.

The display (``/console/queue/display``) is the one console page without a login: it shows queue
numbers and counter names only, nothing of anyone, and runs on a screen nobody signs in at. It
polls ``/console/queue/display.json`` every second and speaks each new call (the browser's speech
synthesis, in Indonesian). The counter pages and ``satupintu queue`` do every step without it:
the procedure's "alat komunikasi elektronik tidak berfungsi".
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from console.access import may_act
from console.auth import QUEUE_DISPLAY as DISPLAY
from console.auth import QUEUE_DISPLAY_FEED as DISPLAY_FEED
from console.auth import officer_of
from console.render import page, problem, translator
from storage.db import reading, utcnow
from storage.queue_numbers import CALLED, WAITING, days_calls, tickets
from visitor_queue.line import Line, QueueRefused, Taken, Ticket
from visitor_queue.spoken import announcement
from visitor_queue.ticket_pdf import ticket_pdf

if TYPE_CHECKING:
    from pipeline.app import Parts

DOOR = "/console/queue"
COUNTER = "/console/queue/{counter}"
STEP = "/console/queue/{counter}/{step}"
TICKET = "/console/queue/{counter}/tickets/{number}.pdf"
NEXT_SHOWN = 3
"""Numbers the display lists as next, per counter."""
STEPS = ("take", "call", "again", "absent", "served", "returned")
DONE = frozenset({"called", "called_aside", "nobody", "nobody_aside", "absent", "served", "returned"})
VALUE = re.compile(r"[A-Z0-9]{0,8}")


def setup(app: web.Application, parts: Parts) -> None:
    if not parts.settings.queue.enabled:
        return
    pages = QueuePages(parts)
    app.add_routes(
        [
            web.get(DOOR, pages.door),
            web.get(DISPLAY, pages.display),
            web.get(DISPLAY_FEED, pages.feed),
            web.get(TICKET, pages.ticket),
            web.get(COUNTER, pages.counter),
            web.post(STEP, pages.step),
        ]
    )


class QueuePages:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.line = Line(parts.engine, parts.settings.queue, parts.settings.zone)

    # --- the door: take a number ------------------------------------------------------------------

    async def door(self, request: web.Request) -> web.Response:
        now = utcnow()
        board = await asyncio.to_thread(self._feed, now)
        taken = await asyncio.to_thread(self._just_taken, request.query.get("taken", ""), now)
        officer = officer_of(request)
        return page(
            request,
            "queue_door.html",
            section="queue",
            counters=board["counters"],
            taken=taken,
            may_register=officer is not None and may_act(officer),
        )

    def _just_taken(self, number: str, now: datetime) -> tuple[str, str] | None:
        """The counter and number of ``?taken=``, when it is a number given today."""
        try:
            counter, written = self.line.counter_of(number)
        except QueueRefused:
            return None
        return (counter.key, written) if self._taken(counter.key, written, now) else None

    async def ticket(self, request: web.Request) -> web.Response:
        counter = self.parts.settings.queue.counter(request.match_info["counter"])
        if counter is None:
            return problem(request, 404, "queue.unknown_counter")
        found = await asyncio.to_thread(self._taken, counter.key, request.match_info["number"], utcnow())
        if found is None:
            return problem(request, 404, "queue.no_such_number")
        body = await asyncio.to_thread(ticket_pdf, found, counter, self.parts.settings.zone)
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="antrian-{quote(found.ticket.number)}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    # --- a counter --------------------------------------------------------------------------------

    async def counter(self, request: web.Request) -> web.Response:
        key = request.match_info["counter"]
        if self.parts.settings.queue.counter(key) is None:
            return problem(request, 404, "queue.unknown_counter")
        line = await asyncio.to_thread(self.line.status, key, utcnow())
        officer = officer_of(request)
        return page(
            request,
            "queue_counter.html",
            section="queue",
            line=line,
            calls_before_skip=self.parts.settings.queue.calls_before_skip,
            announcement=announcement(line.current.number, line.counter.name) if line.current else None,
            done=_done(request),
            may_register=officer is not None and may_act(officer),
            walkin="walkin" in self.parts.channels,
            waited=lambda ticket: _minutes(ticket, utcnow()),
        )

    async def step(self, request: web.Request) -> web.StreamResponse:
        officer = officer_of(request)
        if officer is None or not may_act(officer):
            return problem(request, 403, "error.forbidden")
        key, step = request.match_info["counter"], request.match_info["step"]
        counter = self.parts.settings.queue.counter(key)
        if counter is None or step not in STEPS:
            return problem(request, 404, "queue.unknown_counter")
        try:
            posted = await request.post()
        except ValueError:
            return problem(request, 400, "error.bad_request", reason="the form could not be read")
        number = str(posted.get("number") or "").strip()[:16]
        now = utcnow()
        try:
            if step == "take":
                taken = await asyncio.to_thread(self.line.take, key, now, officer.name)
                raise web.HTTPSeeOther(f"{DOOR}?taken={quote(taken.ticket.number)}")
            said = await asyncio.to_thread(self._step, step, key, number, now, officer.name)
        except QueueRefused as exc:
            return problem(request, 409, f"queue.{exc.code.split('.')[0]}", **{**exc.details, "counter": counter.name})
        raise web.HTTPSeeOther(f"{DOOR}/{quote(key)}?{urlencode({'done': said[0], **said[1]})}")

    def _step(self, step: str, key: str, number: str, now: datetime, by: str) -> tuple[str, dict[str, str]]:
        """What the step did, as the name of its notice (``queue.done_<name>``) and its values."""
        if step in ("call", "again"):
            made = (self.line.call if step == "call" else self.line.call_again)(key, now)
            if made.ticket is None:
                return ("nobody_aside" if made.set_aside else "nobody"), {"aside": made.set_aside or ""}
            done = "called_aside" if made.set_aside else "called"
            return done, {"number": made.ticket.number, "call": str(made.call), "aside": made.set_aside or ""}
        if step == "absent":
            return "absent", {"number": self.line.not_present(key, now).number}
        if step == "served":
            return "served", {"number": self.line.served(number, now, by).number}
        ticket, place = self.line.returned(number, now)
        return "returned", {"number": ticket.number, "place": str(place)}

    # --- the waiting room -------------------------------------------------------------------------

    async def display(self, request: web.Request) -> web.Response:
        return page(request, "queue_display.html", counters=self.parts.settings.queue.counters, feed=DISPLAY_FEED)

    async def feed(self, request: web.Request) -> web.Response:
        data = await asyncio.to_thread(self._feed, utcnow())
        return web.json_response(data, headers={"Cache-Control": "no-store"})

    def _feed(self, now: datetime) -> dict[str, Any]:
        settings = self.parts.settings.queue
        day = self.line.day(now)
        with reading(self.parts.engine) as connection:
            calls = days_calls(connection, day)
            lines = {c.key: tickets(connection, c.key, day, (CALLED, WAITING)) for c in settings.counters}
        counters = []
        for counter in settings.counters:
            rows = lines[counter.key]
            current = next((row for row in rows if row.state == CALLED), None)
            waiting = [row.number for row in rows if row.state == WAITING]
            counters.append(
                {
                    "key": counter.key,
                    "name": counter.name,
                    "prefix": counter.prefix,
                    "current": current.number if current else None,
                    "call": current.calls if current else 0,
                    "sequence": calls.get(counter.key, 0),
                    "announcement": announcement(current.number, counter.name) if current else None,
                    "waiting": len(waiting),
                    "next": waiting[:NEXT_SHOWN],
                }
            )
        return {"day": day, "counters": counters}

    # --- helpers ----------------------------------------------------------------------------------

    def _taken(self, key: str, number: str, now: datetime) -> Taken | None:
        """A ticket of today as its paper shows it (``ahead``: those before it now)."""
        day = self.line.day(now)
        with reading(self.parts.engine) as connection:
            rows = tickets(connection, key, day)
        found = next((row for row in rows if row.number == number.upper()), None)
        if found is None:
            return None
        ahead = sum(1 for row in rows if row.state in (WAITING, CALLED) and row.position < found.position)
        return Taken(Ticket.of(found), ahead)


def _done(request: web.Request) -> str:
    """The notice of the step just done, from the redirect's query: only the notices there are, with
    values that are queue numbers and counts (a crafted link cannot put words on the page)."""
    query = request.query
    name = query.get("done", "")
    if name not in DONE:
        return ""
    values = {field: query.get(field, "") for field in ("number", "aside", "call", "place")}
    if not all(VALUE.fullmatch(value) for value in values.values()):
        return ""
    return translator(request)(f"queue.done_{name}", **values)


def _minutes(ticket: Ticket, now: datetime) -> int:
    return int(ticket.waited(now).total_seconds() // 60)
