"""A front desk for the threading tests: messages of any channel stored and normalized the way
the pipeline does it (the reporter looked up by the normalizer's own function), then triaged by
the real stage on a real database; and what an officer or a reporter would see afterwards."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from config.routing import load_routing
from config.settings import DEFAULT_ROUTING_FILE, ReplyRoute
from envelopes import MediaRef, NormalizedMessage, RawMessage, Reporter, WorkItem
from pipeline.queues import Publisher, Topology
from storage.db import transaction
from storage.identities import Sender, resolve
from storage.models import RAW_NORMALIZED, RAW_RECEIVED
from storage.raw import advance, insert_raw_messages
from triage.calendar import WorkingCalendar
from triage.replies import ReplyPolicy
from triage.stage import TriagePolicy, TriageStage

WITA = ZoneInfo("Asia/Makassar")
MONDAY_NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SENDING = frozenset({"webform", "whatsapp", "telegram", "email", "sms"})
PROVES = {"whatsapp": frozenset({"phone"}), "sms": frozenset({"phone"}), "email": frozenset({"email"})}
"""What each channel proves, as its connector declares (``proves_*`` capabilities)."""
"""The channels this desk's reply policy can answer on; ``phonelog`` cannot."""


def triage_stage(engine: Engine, window_minutes: float = 30.0) -> TriageStage:
    policy = TriagePolicy(
        calendar=WorkingCalendar(WITA, datetime(2026, 1, 1, 16).time()),
        tracking_prefix="ULT",
        replies=ReplyPolicy(sending=SENDING, fallback=[ReplyRoute(channel="email", identity="email")]),
        tracking_block_size=10,
        thread_window_minutes=window_minutes,
    )
    publisher = Publisher(Topology("memory://", f"t{uuid.uuid4().hex[:12]}"), sorted(SENDING | {"phonelog"}))
    return TriageStage(engine, publisher, load_routing(DEFAULT_ROUTING_FILE), policy, max_attempts=3)


@dataclass(frozen=True, slots=True)
class Person:
    """Who writes: the identities their channel gives."""

    name: str
    phone: str | None = None
    email: str | None = None
    chat_id: str | None = None

    def on(self, channel: str) -> Reporter:
        if channel == "email":
            return Reporter(name=self.name, email=self.email)
        if channel == "telegram":
            return Reporter(name=self.name, channel_user_id=self.chat_id)
        return Reporter(name=self.name, phone=self.phone)

    def conversation(self, channel: str) -> str:
        return f"{channel}:{self.chat_id or self.phone or self.email}"


RINA = Person("Rina", phone="+6281234567891", email="rina@example.id", chat_id="5001")
BUDI = Person("Budi", phone="+6281298765432", email="budi@example.id", chat_id="5002")

UKT = "UKT semester ini sudah saya bayar lewat bank tanggal 3 tetapi di SIAKAD masih tertulis belum lunas."
WIFI = "Wifi di asrama putri gedung B tidak tersambung sejak Senin, sudah lapor ke pengelola tapi belum ada perbaikan."


@dataclass
class Desk:
    engine: Engine
    stage: TriageStage
    data_dir: Path
    clock: datetime = MONDAY_NOON

    def message(
        self,
        person: Person,
        body: str,
        *,
        channel: str = "whatsapp",
        conversation: str | None = None,
        subject: str = "",
        in_reply_to: Sequence[str] = (),
        automatic: bool = False,
        after: timedelta = timedelta(minutes=1),
        media: Sequence[str] = (),
        message_id: str | None = None,
        language: str = "id",
        reporter: Reporter | None = None,
        phone_proven: bool = False,
        anonymous: bool = False,
    ) -> NormalizedMessage:
        """A stored, normalized message, ``after`` the previous one, not triaged yet."""
        self.clock += after
        external_id = message_id or f"{channel}-{uuid.uuid4().hex}"
        raw = RawMessage(
            channel=channel, external_id=external_id, received_at=self.clock, content_type="text/plain", payload=b"-"
        )
        with transaction(self.engine) as connection:
            [stored] = insert_raw_messages(connection, [raw])
            reporter = reporter or person.on(channel)
            proves = PROVES.get(channel, frozenset()) | (frozenset({"phone"}) if phone_proven else frozenset())
            [reporter_id] = resolve(connection, [Sender(reporter, channel, proves, stored.id)])
            message = NormalizedMessage(
                channel=channel,
                channel_message_id=external_id,
                raw_message_id=stored.id,
                conversation_key=conversation or person.conversation(channel),
                in_reply_to=tuple(in_reply_to),
                reporter=reporter.model_copy(update={"reporter_id": reporter_id}),
                subject=subject,
                text=body,
                media=tuple(MediaRef(media_id=f"m-{uuid.uuid4().hex}", kind=kind) for kind in media),
                received_at=self.clock,
                automatic=automatic,
                anonymous=anonymous,
                language=language,
                extra={"phone_proven": True} if phone_proven else {},
            )
            advance(
                connection,
                [{"id": stored.id, "state": RAW_NORMALIZED, "normalized": message.model_dump(mode="json")}],
                RAW_RECEIVED,
            )
        return message

    def triage(self, *messages: NormalizedMessage) -> None:
        """Triage the messages as one batch."""
        self.stage.handle(
            [WorkItem(step="triage", record="raw_message", ids=tuple(m.raw_message_id for m in messages))]
        )

    def send(self, person: Person, body: str, **how: Any) -> NormalizedMessage:
        """A message that arrives and is triaged on its own."""
        message = self.message(person, body, **how)
        self.triage(message)
        return message

    # --- what one sees afterwards --------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            found = [dict(row) for row in connection.execute(text(sql), params).mappings()]
        for row in found:
            for key in ("detail", "recipient"):
                if isinstance(row.get(key), str):
                    row[key] = json.loads(row[key])
        return found

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def case_of(self, message: NormalizedMessage) -> int | None:
        value = self.scalar("SELECT case_id FROM raw_message WHERE id = :id", id=message.raw_message_id)
        return None if value is None else int(value)

    def cases(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM cases ORDER BY id")

    def tracking_number(self, case_id: int) -> str:
        return str(self.scalar("SELECT tracking_number FROM cases WHERE id = :id", id=case_id))

    def outbox(self, purpose: str | None = None) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM outbox ORDER BY id")
        return [row for row in rows if purpose is None or row["purpose"] == purpose]

    def answers_to(self, message: NormalizedMessage) -> list[dict[str, Any]]:
        """Every outbox row answering this message (receipt, greeting, status)."""
        return [row for row in self.outbox() if row["recipient"].get("raw_message_id") == message.raw_message_id]

    def events(self, case_id: int, action: str | None = None) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM case_event WHERE case_id = :id ORDER BY id", id=case_id)
        return [row for row in rows if action is None or row["action"] == action]

    def joined_because(self, message: NormalizedMessage) -> str | None:
        """The reason of the ``message_added`` event that put the message on its case."""
        case_id = self.case_of(message)
        if case_id is None:
            return None
        for event in self.events(case_id, "message_added"):
            if event["detail"]["raw_message_id"] == message.raw_message_id:
                return str(event["detail"]["reason"])
        return "created"

    def caseless(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM caseless_message ORDER BY id")

    def cli(self, *args: str) -> Any:
        """Run ``satupintu ARGS`` against this desk's database, as an officer would."""
        from click.testing import CliRunner

        from workers import cli

        env = {
            "SATUPINTU_DATABASE_URL": self.engine.url.render_as_string(hide_password=False),
            "SATUPINTU_DATA_DIR": str(self.data_dir),
        }
        return CliRunner().invoke(cli, list(args), env=env, obj={})

    def close(self, case_id: int) -> None:
        """What the lifecycle's close does to what threading reads: the case is closed."""
        with transaction(self.engine) as connection:
            connection.execute(
                text("UPDATE cases SET closed_at = :now, status = 'closed' WHERE id = :id"),
                {"now": self.clock, "id": case_id},
            )

    def sent_for(self, case_id: int, provider_message_id: str) -> None:
        """The receipt of ``case_id`` went out, the provider naming it ``provider_message_id``."""
        with transaction(self.engine) as connection:
            connection.execute(
                text(
                    "UPDATE outbox SET state = 'sent', provider_message_id = :pid "
                    "WHERE case_id = :id AND purpose = 'receipt'"
                ),
                {"pid": provider_message_id, "id": case_id},
            )
