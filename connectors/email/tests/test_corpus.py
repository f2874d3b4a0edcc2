"""Every mail of ``../shared/corpus/email/`` (83 real-world and Indonesian mails: every charset,
malformed MIME, bounces, auto-replies, forwards) through a real Dovecot mailbox and the whole
pipeline: each one is normalized or parked as dead with a reason, none crashes anything, none is
lost; every mail ``manifest.json`` marks ``auto_generated`` gets no receipt, every other with a
usable sender exactly one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.email.parser import mail_key
from connectors.email.tests.dovecot import Mailbox
from connectors.email.tests.mails import UNIT
from tests.support import Mailbox as SmtpBox
from tests.support import corpus, eventually, make_settings, running_pipeline, smtp_server

FINAL = ("triaged", "ignored", "dead", "joined", "kept")


async def test_the_whole_corpus_is_normalized_or_dead_with_a_reason_and_receipts_follow_the_manifest(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    folder = corpus("email")
    manifest = {entry["file"]: entry for entry in json.loads((folder / "manifest.json").read_text())}
    files = {name: (folder / name).read_bytes() for name in manifest}
    mailbox.write(files.values())
    handler = SmtpBox()
    with smtp_server(handler) as port:
        section = mailbox.section(UNIT, smtp_host="127.0.0.1", smtp_port=port, smtp_security="plain")
        async with running_pipeline(make_settings(tmp_path / "var", connectors={"email": section})) as app:
            await eventually(lambda: app.scalar("SELECT count(*) FROM raw_message") == len(files), timeout=60)
            await eventually(
                lambda: app.scalar("SELECT count(*) FROM raw_message WHERE state IN ('received', 'normalized')") == 0,
                timeout=60,
            )
            await eventually(
                lambda: app.scalar("SELECT count(*) FROM outbox WHERE state NOT IN ('sent', 'dead')") == 0, timeout=60
            )
            rows = {r["external_id"]: r for r in app.rows("SELECT * FROM raw_message")}
            receipts: dict[int, int] = {}
            for row in app.rows("SELECT case_id, count(*) AS n FROM outbox WHERE purpose = 'receipt' GROUP BY case_id"):
                receipts[row["case_id"]] = row["n"]
            sent = app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'receipt' AND state = 'sent'")
            dead_receipts = app.scalar("SELECT count(*) FROM outbox WHERE state = 'dead'")
    problems: list[str] = []
    for name, data in files.items():
        stored: dict[str, Any] = rows[mail_key(data)]
        entry = manifest[name]
        if stored["state"] == "dead":
            if not stored["error"]:
                problems.append(f"{name}: dead without a reason")
            continue
        if stored["state"] not in FINAL:
            problems.append(f"{name}: left in {stored['state']}")
        normalized = stored["normalized"] or {}
        normalized = json.loads(normalized) if isinstance(normalized, str) else normalized
        got = receipts.get(stored["case_id"], 0) if stored["case_id"] and normalized.get("raw_message_id") else 0
        if entry["auto_generated"]:
            if not normalized.get("automatic"):
                problems.append(f"{name}: auto-generated, not marked automatic")
            if got:
                problems.append(f"{name}: auto-generated, got {got} receipt(s)")
        elif normalized.get("reporter", {}).get("channel_user_id") and got != 1:
            problems.append(f"{name}: a usable sender, got {got} receipts")
    assert not problems, "\n".join(problems)
    assert sent == len(handler.received) and dead_receipts == 0
