"""The forms of a case page: which of the procedure's actions it offers now, with what choices,
and what happens when one is posted (``console.actions.run_action``, the functions the command
line runs too), plus confirming or dismissing a suggested identity link.

A posted form answers with a redirect to the case page (so that reloading does not act twice),
or, when the action is refused, with the case page itself carrying the reason and the status
of the refusal (403, 404, 409, 422).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDict
from sqlalchemy import Connection, select, update

from config.routing import KINDS
from console import actions
from console.access import may_act, unit_scope
from console.auth import Officer, officer_of
from console.render import problem, translator
from storage import identities
from storage.cases import record_events
from storage.db import transaction, utcnow
from storage.models import (
    CASE_FORWARDED,
    CASE_IN_PROGRESS,
    CASE_RECEIVED,
    CASE_RESOLVED,
    CASE_VERIFYING,
    CASE_WAITING,
)
from storage.tables import CASES
from triage.lifecycle import ACTIVE, CHECKLIST

if TYPE_CHECKING:
    from pipeline.app import Parts

ACTION = "/console/cases/{tracking_number}/actions/{action}"
LINK = "/console/cases/{tracking_number}/identities/{claim_id}/{decision}"
CasePage = Callable[..., Awaitable[web.Response]]

OFFERED: dict[str, tuple[str, ...]] = {
    "verify": (CASE_RECEIVED, CASE_VERIFYING),
    "ask": (CASE_RECEIVED, CASE_VERIFYING, CASE_FORWARDED, CASE_IN_PROGRESS),
    "forward": (CASE_VERIFYING, CASE_FORWARDED),
    "assign": (CASE_FORWARDED, CASE_IN_PROGRESS),
    "start": (CASE_FORWARDED,),
    "reply": ACTIVE,
    "extend": (CASE_FORWARDED, CASE_IN_PROGRESS),
    "resolve": (CASE_IN_PROGRESS,),
    "close": (CASE_RESOLVED,),
    "reject": (CASE_RECEIVED, CASE_VERIFYING, CASE_WAITING),
    "correct": (CASE_RECEIVED, CASE_VERIFYING, CASE_WAITING),
    "merge": ACTIVE,
    "split": ACTIVE,
}
"""Which forms a case shows in each status: the statuses ``triage/lifecycle.py`` allows them in
(the procedure still decides; a form offered by mistake is refused with its reason)."""
FIRST: dict[str, str] = {
    CASE_RECEIVED: "verify",
    CASE_VERIFYING: "forward",
    CASE_FORWARDED: "start",
    CASE_IN_PROGRESS: "reply",
    CASE_RESOLVED: "close",
}
"""The form shown open: the procedure's next step."""


def setup(app: web.Application, parts: Parts, case_page: CasePage) -> None:
    forms = CaseForms(parts, case_page)
    app.add_routes([web.post(ACTION, forms.act), web.post(LINK, forms.link)])


def forms_for(case: Mapping[str, Any], history: Collection[str], open_form: str | None = None) -> list[dict[str, Any]]:
    """The action forms of the case in its status, the next step's open; ``history``: the
    actions of its audit trail (a case split off another can be put back)."""
    status = case["status"]
    wanted = open_form or FIRST.get(status)
    shown = []
    finished = case.get("closed_at") is not None  # closed, rejected, or merged into another
    for name, statuses in OFFERED.items():
        if finished or status not in statuses:
            continue
        if name == "extend" and case.get("extended"):
            continue
        shown.append({"name": name, "open": name == wanted})
    if case.get("merged_into_id") is not None:
        shown.append({"name": "unmerge", "open": open_form == "unmerge"})
    elif "split_from" in history and not finished:
        shown.append({"name": "unsplit", "open": open_form == "unsplit"})
    return shown


def reply_ways(parts: Parts, connection: Connection, case_id: int) -> list[dict[str, str]]:
    """The reporter's other ways a reply can take (``console.actions.reply_ways``)."""
    return actions.reply_ways(parts, connection, case_id)


def choices(
    parts: Parts, case: Mapping[str, Any], ways: Sequence[Mapping[str, str]], visible: bool, staff: Sequence[str]
) -> dict[str, Any]:
    """The options of the forms: ``staff`` are the unit's officers with a login, beside those
    routing.toml lists. A reply's other ways name the reporter's phone or email: the channel
    only, when the officer may not see the reporter."""
    routing = parts.routing
    unit = case["unit"]
    listed = list(routing.unit(unit).officers) if unit in routing.unit_keys else []
    officers = list(dict.fromkeys([*listed, *staff]))
    reply = []
    for way in ways:
        label = f"{way['channel']} · {way['address']}" if visible else way["channel"]
        value = f"{way['channel']} {way['address']}" if visible else way["channel"]
        reply.append({"value": value, "label": label})
    return {
        "steps": CHECKLIST,
        "missing": actions.MISSING_CONTENTS,
        "units": sorted(((k, routing.unit(k).name) for k in routing.unit_keys), key=lambda item: item[1]),
        "officers": officers,
        "kinds": KINDS,
        "reply_ways": reply,
    }


class CaseForms:
    def __init__(self, parts: Parts, case_page: CasePage) -> None:
        self.parts = parts
        self.case_page = case_page

    async def act(self, request: web.Request) -> web.StreamResponse:
        officer = officer_of(request)
        if officer is None:
            raise web.HTTPSeeOther("/console/login")
        number, action = request.match_info["tracking_number"], request.match_info["action"]
        if action not in actions.ACTIONS:
            return problem(request, 404, "error.unknown_action", action=action)
        try:
            posted = await request.post()
        except ValueError:  # a body that is not the form it claims to be (bytes that do not decode)
            return problem(request, 400, "error.bad_request", reason="the form could not be read")
        fields = _fields(posted, officer)
        try:
            result = await actions.run_action(self.parts, officer, number, action, fields)
        except actions.ActionRefused as exc:
            if exc.status == 404:
                return problem(request, 404, "error.not_found")
            if exc.status == 403:
                return problem(request, 403, "error.forbidden")
            t = translator(request)
            return await self.case_page(
                request, number, status=exc.status, error=t("error.refused", reason=exc.reason), open_form=action
            )
        if result.notes:  # shown at once: what the officer must do (e.g. tell them in person)
            return await self.case_page(request, result.tracking_number, notes=result.notes)
        target = result.other_case if action == "split" and result.other_case else result.tracking_number
        raise web.HTTPSeeOther(f"/console/cases/{quote(target)}?done={quote(action)}")

    async def link(self, request: web.Request) -> web.StreamResponse:
        """Confirm (two reporters are one person) or dismiss a suggested identity link."""
        officer = officer_of(request)
        if officer is None:
            raise web.HTTPSeeOther("/console/login")
        if not may_act(officer):
            return problem(request, 403, "error.forbidden")
        number = request.match_info["tracking_number"]
        decision = request.match_info["decision"]
        raw_id = request.match_info["claim_id"]
        if decision not in ("confirm", "reject") or not raw_id.isdigit() or len(raw_id) > 18:
            return problem(request, 404, "error.not_found")
        claim_id = int(raw_id)
        scope = unit_scope(officer)

        def write() -> bool:
            with transaction(self.parts.engine) as connection:
                return decide_link(connection, number, claim_id, decision, officer.name, scope)

        if not await asyncio.to_thread(write):
            return problem(request, 404, "error.not_found")
        raise web.HTTPSeeOther(f"/console/cases/{quote(number)}?done=link")


def _fields(form: Mapping[str, Any], officer: Officer) -> MultiDict[Any]:
    """The posted form as ``run_action`` reads it: "assign to me" as ``officer=mine``, and a
    reply's chosen way (``channel address``) as its two fields."""
    fields: MultiDict[Any] = MultiDict(form)
    if fields.get("mine") and "officer" in fields:
        fields.popall("officer")
        fields["officer"] = actions.MINE
    way = fields.get("way")
    if isinstance(way, str) and way.strip():
        channel, _, address = way.strip().partition(" ")
        fields["channel"] = channel
        if address:
            fields["address"] = address
    return fields


def decide_link(
    connection: Connection, number: str, claim_id: int, decision: str, actor: str, scope: str | None
) -> bool:
    """Link or dismiss a claim of the case's own reporter; False when the case is not in scope or
    the claim is not one of its reporter's (nothing is changed then)."""
    case = connection.execute(
        select(CASES.c.id, CASES.c.unit, CASES.c.reporter_id).where(CASES.c.tracking_number == number)
    ).first()
    if case is None or (scope is not None and case.unit != scope) or case.reporter_id is None:
        return False
    claimed = identities.claim(connection, claim_id)
    if claimed is None or claimed["other_id"] is None or claimed["dismissed_at"] is not None:
        return False
    reporter, other = int(claimed["reporter_id"]), int(claimed["other_id"])
    person = identities.persons(connection, [reporter, other, case.reporter_id])
    if person.get(case.reporter_id) not in (person.get(reporter), person.get(other)):
        return False
    detail: dict[str, Any] = {"suggestion": claim_id, "identity": claimed["kind"]}
    if decision == "confirm":
        if person[reporter] != person[other]:
            detail["link"] = identities.link(connection, reporter, other, "officer", dict(detail), actor)
        action = "identity_linked"
    else:
        connection.execute(
            update(identities.CLAIMS)
            .where(identities.CLAIMS.c.id == claim_id)
            .values(dismissed_at=utcnow(), dismissed_by=actor)
        )
        action = "identity_link_dismissed"
    record_events(connection, [{"case_id": case.id, "actor": actor, "action": action, "detail": detail}])
    return True
