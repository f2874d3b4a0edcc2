"""The procedure's actions for one officer, as the console's pages and API run them.

Every action goes through the same functions as ``satupintu cases ...`` (``triage/lifecycle.py``,
``triage/merge.py``), in one transaction, recorded with the officer's name. This module adds what
the terminal does not need: who may act on which case (an auditor on none, a unit officer on
their unit's cases only, another unit's case being "not found"), reading the fields of a form
or a JSON body, refusals in the officer's language, and publishing the messages an action wrote
at once rather than at the sweeper's next round.

    result = await run_action(parts, officer, "ULT-26-00042-8", "reply", {"text": "..."})
    # ActionRefused(reason, status=403|404|409|422, code=...) when it cannot be done
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from console.access import may_act, unit_scope
from console.i18n import Translator
from envelopes import work_items
from normalizer.rules import CONTROL
from storage.db import transaction, utcnow
from storage.officers import active_officers_of_unit
from storage.sweeps import NOT_QUEUED
from storage.tables import CASES, OUTBOX
from triage import lifecycle, merge
from triage.tracking import parse_tracking_number

if TYPE_CHECKING:
    from console.auth import Officer
    from pipeline.app import Parts
    from pipeline.queues import Publisher

logger = logging.getLogger(__name__)

ACTIONS = (
    "verify",
    "ask",
    "forward",
    "assign",
    "start",
    "reply",
    "extend",
    "resolve",
    "close",
    "reject",
    "correct",
    "merge",
    "unmerge",
    "split",
    "unsplit",
)
"""Every action, by the name the API path and the forms use."""
MINE = "mine"
"""``assign`` with ``officer=mine``: the acting officer."""
MAX_TEXT = 20_000
"""A reply or a follow-up report: as long as a report may be."""
MAX_NOTE = 2_000
MAX_WORD = 320
"""A unit key, an officer's name, a channel, an address: the longest is an email address."""
MAX_REFERENCE = 64
"""Longer than any tracking number (as a person may type it, with spaces)."""
IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""A control character a reply or a report may not hold (it keeps its lines and tabs)."""
MISSING_CONTENTS = ("identity", "place", "time", "what", "who", "evidence")

TEXTS: dict[str, dict[str, str]] = {
    "forbidden": {
        "id": "Peran Anda hanya dapat membaca; tindakan tidak diizinkan.",
        "en": "Your role is read-only: actions are not allowed.",
    },
    "not_found": {"id": "Kasus {tracking_number} tidak ditemukan.", "en": "No case {tracking_number}."},
    "unknown_action": {
        "id": "Tindakan {action!r} tidak dikenal; tindakan yang ada: {actions}.",
        "en": "Unknown action {action!r}; the actions are {actions}.",
    },
    "required": {"id": "Isian {field} wajib diisi.", "en": "The field {field} is required."},
    "too_long": {
        "id": "Isian {field} terlalu panjang (paling banyak {limit} karakter).",
        "en": "The field {field} is too long (at most {limit} characters).",
    },
    "control": {
        "id": "Isian {field} berisi karakter kontrol yang tidak diizinkan.",
        "en": "The field {field} holds control characters, which are not allowed.",
    },
    "not_text": {"id": "Isian {field} harus berupa teks.", "en": "The field {field} must be text."},
    "bad_choice": {
        "id": "Isian {field}: {value!r} tidak valid; pilihan: {choices}.",
        "en": "The field {field}: {value!r} is not valid; the choices are {choices}.",
    },
    "bad_number": {
        "id": "Isian {field} harus berisi nomor pesan (#id pada utas).",
        "en": "The field {field} must hold message numbers (the #ids of the thread).",
    },
    "status": {
        "id": "{tracking_number} berstatus {status}: tindakan “{action}” hanya bisa saat berstatus {allowed}.",
        "en": "{tracking_number} is {status}: “{action}” is allowed only when it is {allowed}.",
    },
    "changed": {
        "id": "{tracking_number} baru saja diubah petugas lain; muat ulang dan periksa lagi.",
        "en": "{tracking_number} changed meanwhile; look at it again.",
    },
    "not_officer": {
        "id": "{officer} bukan petugas aktif unit {unit}; petugasnya: {officers}.",
        "en": "{officer} is not an active officer of {unit}; its officers are {officers}.",
    },
    "no_way": {
        "id": "Kanal {channel} tidak menjangkau nomor atau email pelapor ini.",
        "en": "{channel} reaches no phone or email of this reporter.",
    },
}
"""The refusals this module words itself, per language; the procedure's other refusals are the
English texts of ``triage/lifecycle.py`` and ``triage/merge.py``."""


class ActionRefused(Exception):
    """The action cannot be done: ``reason`` says why, for the officer (in their language).
    ``status`` is the HTTP status an API answers with: 403 (the role may not act), 404 (no such
    case, or one outside the officer's unit), 422 (a field is missing or wrong), 409 (the
    procedure does not allow it now); ``code`` names the refusal for a caller that words it."""

    def __init__(self, reason: str, status: int = 409, code: str = "refused", field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.code = code
        self.field = field
        """The form field at fault (422), for a page that marks it."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did, for the page or the API to show."""

    action: str
    tracking_number: str
    """The case acted on, as it is after the action."""
    status: str
    unit: str
    assignee: str | None
    messages_queued: tuple[str, ...] = ()
    """The channel of each message the action wrote (to the reporter, the unit's mail)."""
    notes: tuple[str, ...] = ()
    """What the officer should know: "no channel reaches the reporter: tell them in person"."""
    other_case: str | None = None
    """merge: the case merged into; split: the new case; unmerge, unsplit: the other case."""


async def run_action(
    parts: Parts, officer: Officer, tracking_number: str, action: str, fields: Mapping[str, Any]
) -> ActionResult:
    """Run ``action`` on the case for ``officer``, or raise :class:`ActionRefused`.

    ``fields`` is a form (aiohttp's ``MultiDict``: repeated fields are read with ``getall``) or
    a JSON object (lists for the repeated ones, booleans for flags); unknown fields (``_csrf``)
    are ignored. The database work runs in a thread; the messages the action wrote are handed
    to the pipeline's queue once it committed (the sweeper sends them otherwise)."""
    return await asyncio.to_thread(_run, parts, officer, tracking_number, action, fields)


def reply_ways(parts: Parts, connection: Connection, case_id: int) -> list[dict[str, str]]:
    """The other ways a reply can go (``reply`` with ``channel`` and ``address``): for a form's
    choice. Its addresses identify the reporter: show them only to whom may see the reporter."""
    ways = lifecycle.reply_ways(connection, _desk(parts), case_id)
    return [{"channel": w.channel, "via": w.via, "address": w.address} for w in ways]


# --- running one action ----------------------------------------------------------------------------


def _run(parts: Parts, officer: Officer, reference: str, action: str, fields: Mapping[str, Any]) -> ActionResult:
    say = _Say(officer.language)
    if not may_act(officer):
        raise ActionRefused(say("forbidden"), 403, "forbidden")
    if action not in ACTIONS:
        raise ActionRefused(say("unknown_action", action=action, actions=", ".join(ACTIONS)), 404, "unknown_action")
    number = _canonical(reference)
    options = _OPTIONS[action](_Fields(fields, say), officer)
    if action == "split":  # reserved in a transaction of its own, before the split's (as triage does)
        options["tracking_number"] = _new_tracking_number(parts)
    scope = unit_scope(officer)
    try:
        with transaction(parts.engine) as writer:
            case = _case_in_scope(writer, number, scope, say)
            result, outbox = _dispatch(writer, parts, case, officer.name, action, options, scope, say)
    except lifecycle.Refused as exc:
        raise ActionRefused(_procedure_refusal(exc, say), 409, exc.code) from None
    except merge.Refused as exc:
        raise ActionRefused(str(exc), 409, "refused") from None
    _publish(parts, outbox)
    logger.info("officer %s did %s on %s", officer.name, action, result.tracking_number)
    return result


def _dispatch(
    writer: Connection,
    parts: Parts,
    case: Mapping[str, Any],
    by: str,
    action: str,
    options: dict[str, Any],
    scope: str | None,
    say: _Say,
) -> tuple[ActionResult, list[tuple[int, str]]]:
    """One action on a case known to be in the officer's scope: a move of ``triage/merge.py``, or
    a step of ``triage/lifecycle.py``; with the outbox rows it wrote."""
    key = case["tracking_number"]
    if action == "merge":
        options["target_ref"] = _case_in_scope(writer, options.pop("into"), scope, say)["tracking_number"]
    if action == "assign":
        _check_assignee(writer, case, options["officer"], say)
    if action in _MOVES:
        moved = _MOVES[action](writer, key, actor=by, **options)
        other = moved.target if moved.source == key else moved.source
        return _result(action, lifecycle.load(writer, key), other_case=other), []
    outcome = getattr(lifecycle, action)(writer, _desk(parts), key, by, **options)
    return _result(action, outcome.case, outcome), outcome.outbox


def _result(
    action: str, case: Mapping[str, Any], outcome: lifecycle.Outcome | None = None, *, other_case: str | None = None
) -> ActionResult:
    return ActionResult(
        action=action,
        tracking_number=case["tracking_number"],
        status=case["status"],
        unit=case["unit"],
        assignee=case["assignee"],
        messages_queued=tuple(channel for _id, channel in outcome.outbox) if outcome else (),
        notes=tuple(outcome.notes) if outcome else (),
        other_case=other_case,
    )


def _new_tracking_number(parts: Parts) -> str:
    from triage.numbering import TrackingNumbers
    from triage.tracking import TrackingNumber

    settings = parts.settings
    scope = f"{utcnow().astimezone(settings.zone).year % 100:02d}"
    numbers = TrackingNumbers(parts.engine, 1)
    numbers.reserve({scope: 1})
    [sequence] = numbers.take(scope, 1)
    return str(TrackingNumber(settings.tracking.prefix, int(scope), sequence))


# --- each action's fields: the keyword arguments of its function -------------------------------------


def _verify(form: _Fields, officer: Officer) -> dict[str, Any]:
    steps = form.choices("steps", lifecycle.CHECKLIST)
    return {"steps": steps, "complete": form.flag("complete"), "note": form.text("note")}


def _ask(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"question": form.text("question", limit=MAX_TEXT), "missing": form.choices("missing", MISSING_CONTENTS)}


def _forward(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"unit": form.word("unit") or None, "note": form.text("note")}


def _assign(form: _Fields, officer: Officer) -> dict[str, Any]:
    chosen = form.word("officer", required=True)
    return {"officer": officer.name if chosen == MINE else chosen}


def _note_only(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"note": form.text("note")}


def _reply(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {
        "text": form.text("text", required=True, limit=MAX_TEXT),
        "channel": form.word("channel") or None,
        "address": form.word("address") or None,
    }


def _extend(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"reason": form.text("reason", required=True)}


def _resolve(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"report": form.text("report", required=True, limit=MAX_TEXT)}


def _reject(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"reason": form.text("reason", required=True)}


def _correct(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"kind": form.word("kind") or None, "unit": form.word("unit") or None, "note": form.text("note")}


def _merge(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"into": _canonical(form.word("into", required=True)), "reason": form.text("reason")}


def _split(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {"case_message_ids": form.numbers("messages"), "reason": form.text("reason")}


def _nothing(form: _Fields, officer: Officer) -> dict[str, Any]:
    return {}


_OPTIONS: dict[str, Callable[[_Fields, Officer], dict[str, Any]]] = {
    "verify": _verify,
    "ask": _ask,
    "forward": _forward,
    "assign": _assign,
    "start": _note_only,
    "reply": _reply,
    "extend": _extend,
    "resolve": _resolve,
    "close": _note_only,
    "reject": _reject,
    "correct": _correct,
    "merge": _merge,
    "unmerge": _nothing,
    "split": _split,
    "unsplit": _nothing,
}
"""Each action's fields, read (and refused with a 422) before anything is written."""

_MOVES: dict[str, Callable[..., merge.Moved]] = {
    "merge": merge.merge,
    "unmerge": merge.unmerge,
    "split": merge.split,
    "unsplit": merge.unsplit,
}
"""The actions of ``triage/merge.py``: they move messages between cases (the others are
``triage/lifecycle.py``'s functions of the same name)."""


# --- scope, refusals, publishing ---------------------------------------------------------------------


def _check_assignee(connection: Connection, case: Mapping[str, Any], name: str, say: _Say) -> None:
    """A case goes to an enabled officer of its unit, when the unit has officers in the console
    (a unit without any yet takes a name, as ``cases assign`` does, within routing.toml's list)."""
    officers = [row["name"] for row in active_officers_of_unit(connection, case["unit"])]
    if officers and name not in officers:
        text = say("not_officer", officer=name, unit=case["unit"], officers=", ".join(officers))
        raise ActionRefused(text, 422, "not_officer", "officer")


def _canonical(reference: str) -> str:
    """A tracking number in its canonical form, or the text as given when it is none (and names
    no case: every case has a well-formed number)."""
    parsed = parse_tracking_number(reference) if len(reference) <= MAX_REFERENCE else None
    return str(parsed) if parsed is not None else reference


def _case_in_scope(connection: Connection, number: str, scope: str | None, say: _Say) -> dict[str, Any]:
    """The case by tracking number, when the officer's unit may see it: another unit's case is
    "not found", exactly as a missing one (its existence is not told). What is not a tracking
    number is not looked up (a NUL byte is an error on PostgreSQL, not a miss)."""
    row = None
    if parse_tracking_number(number) is not None:
        row = connection.execute(select(CASES).where(CASES.c.tracking_number == number)).mappings().first()
    if row is None or (scope is not None and row["unit"] != scope):
        shown = number if number.isprintable() and len(number) <= MAX_REFERENCE else "?"
        raise ActionRefused(say("not_found", tracking_number=shown), 404, "not_found")
    return dict(row)


def _procedure_refusal(exc: lifecycle.Refused, say: _Say) -> str:
    """The procedure's refusal in the officer's words: statuses and actions by their names."""
    if exc.code == "status":
        name = Translator(say.language).code
        facts = {
            **exc.facts,
            "status": name("status", exc.facts["status"]),
            "action": name("action", exc.facts["action"]),
            "allowed": " / ".join(name("status", status) for status in exc.facts["allowed"]),
        }
        return say("status", **facts)
    if exc.code in ("changed", "no_way"):
        return say(exc.code, **exc.facts)
    return str(exc)


def _publish(parts: Parts, outbox: Sequence[tuple[int, str]]) -> None:
    """Hand the action's messages to the deliver queue now; marked queued only once handed over,
    so that a refused or failed publish leaves them to the sweeper (nothing is lost either way)."""
    if not outbox:
        return
    try:
        handed = _publisher(parts).publish(work_items("deliver", "outbox", list(outbox)))
    except Exception:  # the rows are committed: the sweeper publishes them
        logger.warning("could not publish %d outbox rows; the sweeper sends them", len(outbox), exc_info=True)
        return
    if handed:
        with transaction(parts.engine, durable=False) as writer:
            writer.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([outbox_id for outbox_id, _ in outbox]), OUTBOX.c.queued_at == NOT_QUEUED)
                .values(queued_at=utcnow())
            )


# --- what is built once per running server ---------------------------------------------------------


@dataclass(slots=True)
class _Built:
    parts: Parts
    """Held so that its ``id`` is not reused while the entry lives."""
    desk: lifecycle.Desk
    publisher: Publisher | None = None


_built: dict[int, _Built] = {}
"""Per ``Parts`` (by identity): the desk (texts, calendar, units) and a publisher of its own."""
_building = threading.Lock()


def _entry(parts: Parts) -> _Built:
    with _building:
        found = _built.get(id(parts))
        if found is None or found.parts is not parts:
            found = _built[id(parts)] = _Built(parts, lifecycle.Desk.from_parts(parts))
        return found


def _desk(parts: Parts) -> lifecycle.Desk:
    return _entry(parts).desk


def _publisher(parts: Parts) -> Publisher:
    entry = _entry(parts)
    with _building:
        if entry.publisher is None:
            entry.publisher = parts.publisher()
        return entry.publisher


def release(parts: Parts) -> None:
    """Close what was built for ``parts``: the server's cleanup calls it."""
    with _building:
        found = _built.pop(id(parts), None)
    if found is not None and found.publisher is not None:
        found.publisher.close()


# --- reading fields ------------------------------------------------------------------------------


class _Say:
    """The refusals of :data:`TEXTS` in one language (Indonesian unless the officer chose English)."""

    def __init__(self, language: str) -> None:
        self.language = language if language == "en" else "id"

    def __call__(self, code: str, **facts: Any) -> str:
        return TEXTS[code][self.language].format(**facts)


class _Fields:
    """The fields of a form (``MultiDict``) or of a JSON object, read with a 422 for what is wrong."""

    def __init__(self, fields: Mapping[str, Any], say: _Say) -> None:
        self.fields = fields
        self.say = say

    def _refuse(self, code: str, field: str, **facts: Any) -> ActionRefused:
        return ActionRefused(self.say(code, field=field, **facts), 422, code, field)

    def values(self, name: str) -> list[Any]:
        getall = getattr(self.fields, "getall", None)
        if getall is not None:
            return list(getall(name, []))
        value = self.fields.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    def text(self, name: str, *, required: bool = False, limit: int = MAX_NOTE) -> str:
        """A text a person wrote (a note, a reason, a reply): it keeps its lines and tabs."""
        return self._string(name, IN_TEXT, required, limit)

    def word(self, name: str, *, required: bool = False) -> str:
        """One line naming something (a unit, an officer, a channel, a case): no control character."""
        return self._string(name, CONTROL, required, MAX_WORD)

    def _string(self, name: str, refused: re.Pattern[str], required: bool, limit: int) -> str:
        value = self.fields.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise self._refuse("not_text", name)
        if refused.search(value.replace("\r\n", "\n")):
            raise self._refuse("control", name)
        value = value.strip()
        if required and not value:
            raise self._refuse("required", name)
        if len(value) > limit:
            raise self._refuse("too_long", name, limit=limit)
        return value

    def flag(self, name: str) -> bool:
        value = self.fields.get(name)
        if isinstance(value, bool):
            return value
        return isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes", "ya")

    def choices(self, name: str, allowed: Sequence[str]) -> list[str]:
        chosen: list[str] = []
        for value in self.values(name):
            for item in str(value).replace(",", " ").split():
                if item not in allowed:
                    raise self._refuse("bad_choice", name, value=item, choices=", ".join(allowed))
                chosen.append(item)
        return list(dict.fromkeys(chosen))

    def numbers(self, name: str) -> list[int]:
        found: list[int] = []
        for value in self.values(name):
            if isinstance(value, bool):
                raise self._refuse("bad_number", name)
            if isinstance(value, int):
                found.append(value)
                continue
            for item in str(value).replace(",", " ").split():
                digits = item.lstrip("#")
                if not digits.isdigit() or len(digits) > 18:
                    raise self._refuse("bad_number", name)
                found.append(int(digits))
        if not found:
            raise self._refuse("required", name)
        return found
