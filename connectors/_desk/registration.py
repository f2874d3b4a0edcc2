"""The front desk's side of a registration (``walkin add``, ``letter add``), shared by both.

A registration never writes a case: it is stored as a raw message exactly as an import stores a
row (``pipeline.imports.store_message``), so normalize and triage make the case, its tracking
number, deadlines and the receipt by WhatsApp, SMS or email (the reply policy). The desk then
waits for that case, renders the one-page receipt and keeps the same PDF on the case (a blob,
attached to the registration's message) for download. When no running pipeline takes the
message in time, it says so; registering again is harmless (the registration's key makes it the
same message) and gives the receipt then.

:func:`register_message` is the part the officers' console can call too; :func:`register` is
the command line's wrapper (options, exit codes, the printed file).
"""

from __future__ import annotations

import hashlib
import mimetypes
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import click
import orjson
from sqlalchemy import Connection, Engine, and_, select

from cli.common import EXIT_CONFIG, FORMAT, emit, parts, settings
from cli.views import local_time
from connectors._desk.receipt_pdf import PrintedReceipt, receipt_pdf
from connectors.base import BlobRef, RawMessage
from pipeline.queues import Publisher, Topology
from storage.blobs import BlobStore
from storage.cases import insert_attachments, record_events
from storage.db import reading, transaction
from storage.models import RAW_DEAD, RAW_NORMALIZED, RAW_RECEIVED
from storage.raw import find_raw, raw_status
from storage.tables import ATTACHMENTS, CASES, MESSAGES, OUTBOX, UNITS
from storage.threads import CASELESS

EXIT_PROBLEM = 1
POLL_SECONDS = 0.2
VOLATILE = frozenset({"visited_at", "received_at"})
"""Payload keys that differ between two registrations of one visit or letter (the moment typed)."""
ACTOR = "desk"
CommandF = TypeVar("CommandF", bound=Callable[..., Any])


class OtherDetails(Exception):
    """The registration's key (a queue number that day, an agenda number) is in use by another."""


class NotTaken(Exception):
    """The pipeline parked the registration as dead (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class FrontDesk:
    """What the front desk needs: storage, the queue, the blobs, the unit's zone."""

    engine: Engine
    topology: Topology
    publisher: Publisher | None
    """None on ``memory://``: the queue lives inside the running ``satupintu run`` (its sweep)."""
    blobs: BlobStore
    zone: ZoneInfo
    public_url: str = "http://127.0.0.1:8080"
    """``[survey] public_url``: where reporters reach the public pages (the status page)."""


@dataclass(slots=True)
class Registration:
    """What became of a registration: stored (again), its case once made, its receipt."""

    key: str
    outcome: str
    raw_message_id: int
    tracking_number: str | None = None
    receipt_via: str | None = None
    receipt_state: str | None = None
    """The copy's outbox state when the receipt was made: pending, sending, sent or dead."""
    first_response_due: Any = None
    resolution_due: Any = None
    pdf: bytes | None = field(default=None, repr=False)
    receipt_pdf: dict[str, Any] | None = None
    state: str | None = None
    """Where the stored message is, while it has no case: ``received``, ``normalized`` (waiting
    for triage) or ``triaged`` (kept without a case, by a version that could do that)."""
    caseless_id: int | None = None
    """Its id in ``cases inbox`` when it was kept without a case (``cases promote ID``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outcome": self.outcome,
            "raw_message_id": self.raw_message_id,
            "tracking_number": self.tracking_number,
            "receipt_via": self.receipt_via,
            "receipt_state": self.receipt_state,
            "first_response_due": self.first_response_due,
            "resolution_due": self.resolution_due,
            "receipt_pdf": self.receipt_pdf,
            "state": self.state,
            "caseless_id": self.caseless_id,
        }


def keep_files(blobs: BlobStore, paths: Sequence[Path]) -> tuple[BlobRef, ...]:
    """Scans and photos that came with it, kept in the blob store before anything refers to them."""
    kept = []
    for path in paths:
        data = path.read_bytes()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        kept.append(
            BlobRef(filename=path.name[:255], content_type=content_type, size=len(data), sha256=blobs.put(data))
        )
    return tuple(kept)


def register_message(desk: FrontDesk, message: RawMessage, came_by: str, wait_seconds: float) -> Registration:
    """Store the registration, wait up to ``wait_seconds`` for its case, and keep its receipt."""
    from pipeline.imports import store_message

    _check_same_details(desk.engine, message)
    stored = store_message(message, desk.engine, desk.publisher)
    assert stored.raw_message_id is not None  # a row that was stored, or had been
    registration = Registration(message.external_id.split(":", 1)[1], stored.outcome, stored.raw_message_id)
    case_id = _wait_for_case(desk.engine, stored.raw_message_id, wait_seconds)
    if case_id is not None:
        _receipt(desk, registration, case_id, came_by)
    else:
        _where(desk.engine, registration)
    return registration


def _where(engine: Engine, registration: Registration) -> None:
    """How far a registration without a case got: still on its way, or kept without one."""
    with reading(engine) as connection:
        status = raw_status(connection, registration.raw_message_id)
        kept = connection.execute(
            select(CASELESS.c.id).where(CASELESS.c.raw_message_id == registration.raw_message_id)
        ).scalar()
    registration.state = status.state if status is not None else None
    waiting = status is None or status.state in (RAW_RECEIVED, RAW_NORMALIZED)  # a promoted one goes back
    registration.caseless_id = None if kept is None or waiting else int(kept)


def _check_same_details(engine: Engine, message: RawMessage) -> None:
    with reading(engine) as connection:
        earlier = find_raw(connection, message.channel, message.external_id)
    if earlier is None:
        return
    same = _content(earlier.message.payload) == _content(message.payload) and {
        a.sha256 for a in earlier.message.attachments
    } == {a.sha256 for a in message.attachments}
    if not same:
        raise OtherDetails(message.external_id.split(":", 1)[1])


def _content(payload: bytes) -> dict[str, Any]:
    record: dict[str, Any] = orjson.loads(payload)
    return {k: v for k, v in record.items() if k not in VOLATILE}


def _wait_for_case(engine: Engine, raw_id: int, seconds: float) -> int | None:
    """The case id once triage made it; None if not yet; :class:`NotTaken` if it never will."""
    deadline = time.monotonic() + seconds
    while True:
        with reading(engine) as connection:
            status = raw_status(connection, raw_id)
        if status is not None and status.case_id is not None:
            return status.case_id
        if status is not None and status.state == RAW_DEAD:
            raise NotTaken(status.error or "no reason recorded")
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def _receipt(desk: FrontDesk, registration: Registration, case_id: int, came_by: str) -> None:
    with reading(desk.engine) as connection:
        case, message_id, text, copy = _case_facts(connection, case_id, registration.raw_message_id)
    sent_by, state = copy if copy is not None else (None, None)
    printed = PrintedReceipt(
        tracking_number=case["tracking_number"],
        received_at=case["received_at"],
        came_by=came_by,
        name=None if case["anonymous"] else case["reporter_name"],
        kind=case["kind"],
        unit_name=case["unit_name"],
        confidential=case["confidential"],
        first_response_due=case["first_response_due"],
        resolution_due=case["resolution_due"],
        excerpt=text,
        sent_by=sent_by if state != "dead" else None,
        copy_sent=state == "sent",
        external_ref=case.get("external_ref"),
        status_url=f"{desk.public_url.rstrip('/')}/status",
    )
    pdf = receipt_pdf(printed, desk.zone)
    registration.tracking_number = case["tracking_number"]
    registration.receipt_via = case["receipt_via"]
    registration.receipt_state = state
    registration.first_response_due = case["first_response_due"]
    registration.resolution_due = case["resolution_due"]
    registration.receipt_pdf = keep_on_case(desk, case_id, message_id, printed.tracking_number, pdf)
    kept = registration.receipt_pdf["sha256"]
    registration.pdf = (
        pdf if kept == hashlib.sha256(pdf).hexdigest() else desk.blobs.get(kept)
    )  # a reprint: the same file


def _case_facts(connection: Connection, case_id: int, raw_id: int) -> tuple[Any, int, str, tuple[str, str] | None]:
    case = (
        connection.execute(
            select(CASES, UNITS.c.name.label("unit_name"))
            .select_from(CASES.join(UNITS, UNITS.c.key == CASES.c.unit))
            .where(CASES.c.id == case_id)
        )
        .mappings()
        .one()
    )
    message = connection.execute(
        select(MESSAGES.c.id, MESSAGES.c.text).where(MESSAGES.c.raw_message_id == raw_id)
    ).one()
    copy = connection.execute(
        select(OUTBOX.c.channel, OUTBOX.c.state).where(and_(OUTBOX.c.case_id == case_id, OUTBOX.c.purpose == "receipt"))
    ).first()
    return case, int(message.id), str(message.text), (str(copy.channel), str(copy.state)) if copy else None


def receipt_filename(tracking_number: str) -> str:
    return f"tanda-terima-{tracking_number}.pdf"


def keep_on_case(desk: FrontDesk, case_id: int, message_id: int, tracking_number: str, pdf: bytes) -> dict[str, Any]:
    """The printed receipt, attached to the registration's message (once) for download."""
    name = receipt_filename(tracking_number)
    sha = desk.blobs.put(pdf)
    with transaction(desk.engine) as connection:
        there = connection.execute(
            select(ATTACHMENTS.c.sha256).where(
                and_(ATTACHMENTS.c.case_message_id == message_id, ATTACHMENTS.c.filename == name)
            )
        ).scalar()
        if there is None:
            row = {"filename": name, "content_type": "application/pdf", "size": len(pdf), "sha256": sha}
            insert_attachments(connection, [{"case_message_id": message_id, **row}])
            event = {"case_id": case_id, "actor": ACTOR, "action": "receipt_printed", "detail": {"sha256": sha}}
            record_events(connection, [event])
            there = sha
    return {"filename": name, "sha256": there, "size": len(pdf)}


# --- the command line --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """What one registration command was asked."""

    came_by: str
    wait_seconds: float
    print_to: Path | None
    as_json: bool


WAIT = click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0, 600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the running pipeline to make the case before printing.",
)
PRINT = click.option(
    "--print",
    "print_to",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the one-page receipt (PDF) here, to print and hand over or post.",
)
ATTACH = click.option(
    "--attach",
    "attach",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file that came with it (a scan, a photo); repeat for several.",
)


def registration_options(command: CommandF) -> CommandF:
    """The options every ``add`` shares: ``--attach``, ``--print``, ``--wait``, ``--format``."""
    return ATTACH(PRINT(WAIT(FORMAT(command))))


def blob_store(ctx: click.Context) -> BlobStore:
    return BlobStore(settings(ctx).blob_dir)


def refuse(problems: Sequence[tuple[str, str]]) -> NoReturn:
    """Each problem under the option it is in; exit 1."""
    for option, reason in problems:
        click.echo(f"--{option.replace('_', '-')}: {reason}", err=True)
    sys.exit(EXIT_PROBLEM)


def register(ctx: click.Context, message: RawMessage, command: Command) -> Registration:
    """Store, wait for the case, print and keep the receipt, and say what happened."""
    found = parts(ctx)
    if message.channel not in found.channels:
        click.echo(
            f"satupintu: the {message.channel} channel is not enabled: set [connectors.{message.channel}] "
            "enabled = true (the pipeline could not make its case)",
            err=True,
        )
        sys.exit(EXIT_CONFIG)
    found.prepare_database()
    zone = settings(ctx).zone
    publisher = None if found.topology.is_memory else found.publisher()
    desk = FrontDesk(found.engine, found.topology, publisher, blob_store(ctx), zone, settings(ctx).survey.public_url)
    try:
        registration = register_message(desk, message, command.came_by, command.wait_seconds)
    except OtherDetails as exc:
        click.echo(
            f"satupintu: {exc} is registered already with other details; nothing was changed "
            "(a new visit or letter needs its own number)",
            err=True,
        )
        sys.exit(EXIT_PROBLEM)
    except NotTaken as exc:
        click.echo(f"satupintu: the registration was parked as dead: {exc}", err=True)
        sys.exit(EXIT_PROBLEM)
    finally:
        if publisher is not None:
            publisher.close()
        found.engine.dispose()
    result = registration.to_dict()
    if registration.pdf is not None and command.print_to is not None:
        command.print_to.write_bytes(registration.pdf)
    result["printed_to"] = str(command.print_to) if command.print_to and registration.pdf else None
    emit(result, command.as_json, partial(_table, zone=zone), zone)
    if registration.caseless_id is not None:
        click.echo(
            f"kept without a case (cases inbox, message {registration.caseless_id}): "
            f"`satupintu cases promote {registration.caseless_id}` opens its case; then run the same command "
            "again to print the receipt",
            err=True,
        )
    elif registration.tracking_number is None:
        within = found.settings.pipeline.sweep_interval_seconds
        click.echo(
            f"stored, waiting for triage ({registration.state or 'unknown'}); the tracking number comes when a "
            f"running satupintu picks it up (within {within:g} s of its next sweep): run the same command again "
            "then to print the receipt",
            err=True,
        )
    return registration


def _table(result: dict[str, Any], zone: ZoneInfo) -> None:
    if result["tracking_number"] is None:
        click.echo(f"{result['key']}: {result['outcome'].replace('_', ' ')} (raw message {result['raw_message_id']})")
        return
    click.echo(f"tracking number: {result['tracking_number']}")
    click.echo(f"first follow-up due: {local_time(result['first_response_due'], zone)}")
    click.echo(f"receipt: {_copy(result['receipt_via'], result['receipt_state'])}")
    kept = result["receipt_pdf"]["filename"]
    if result["printed_to"]:
        click.echo(f"printed to {result['printed_to']}; kept on the case as {kept}")
    else:
        click.echo(f"kept on the case as {kept} (--print FILE writes it out)")


def _copy(via: str | None, state: str | None) -> str:
    """What became of the receipt's copy, as it stands: sent, on its way, or not at all."""
    if not via or state is None:
        return "hand over the printed receipt (no channel reaches them)"
    if state == "sent":
        return f"also sent by {via}"
    if state == "dead":
        return f"could not be sent by {via} (see `cases show`): hand over the printed receipt"
    return f"also going by {via} (queued; `cases show` says when it is sent)"
