"""Messages kept without a case: stored for officers (``satupintu cases inbox``), and answered
on the channel they came by when there is something to say: a greeting that says how to report,
or the answer to a status command. A machine's message is never answered. The greeting suits
its channel (``triage.texts.greeting_name``): a web form's points to the form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from storage import cases as case_store
from storage import threads as store
from storage.db import utcnow
from storage.models import OUTBOX_PENDING
from triage.commands import greeting, is_english, status_answer
from triage.replies import ReplyPolicy, Route, route_receipt
from triage.texts import Texts
from triage.threading import Kept


def keep_caseless(
    connection: Connection, kept: Sequence[Kept], replies: ReplyPolicy, texts: Texts
) -> list[tuple[int, str]]:
    """Store each kept message and write its answer to the outbox (no case); returns the
    answers' outbox ids with their channel."""
    if not kept:
        return []
    rows: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    now = utcnow()
    for item in kept:
        message = item.message
        route = _own_channel(item, replies)
        rows.append(
            {
                "raw_message_id": message.raw_message_id,
                "channel": message.channel,
                "conversation_key": message.conversation_key,
                "reporter_id": message.reporter.reporter_id,
                "reason": item.reason,
                "answer": item.answer if route is not None else None,
                "subject": message.subject,
                "text": message.text,
                "received_at": message.received_at,
            }
        )
        if route is None or item.answer is None:
            continue
        english = is_english(message)
        if item.answer == "status":
            number = item.status.number if item.status is not None else None
            found = store.status_for_reporter(connection, number, message.reporter.reporter_id) if number else None
            answer = status_answer(texts, found, english)
        else:
            answer = greeting(texts, english, message.channel)
        answers.append(
            {
                "case_id": None,
                "channel": route.channel,
                "purpose": item.answer,
                "idempotency_key": f"{item.answer}:raw:{message.raw_message_id}",
                "recipient": route.recipient.model_dump(mode="json"),
                "subject": answer.subject,
                "body": answer.body,
                "in_reply_to": route.in_reply_to,
                "state": OUTBOX_PENDING,
                "attempts": 0,
                "queued_at": now,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    store.insert_caseless(connection, rows)
    ids = case_store.insert_outbox(connection, answers)
    return [(outbox_id, str(row["channel"])) for outbox_id, row in zip(ids, answers, strict=True)]


def _own_channel(item: Kept, replies: ReplyPolicy) -> Route | None:
    """The answer goes back on the channel the message came by, or not at all."""
    if item.answer is None or item.message.automatic:
        return None
    route = route_receipt(item.message, replies)
    return route if isinstance(route, Route) and route.channel == item.message.channel else None
