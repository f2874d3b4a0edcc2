#!/usr/bin/env python3
"""Benchmark of the email channel: a Dovecot mailbox of N mixed mails -> cases with receipts
accepted by SMTP.

It starts a throw-away Dovecot (``connectors/email/fixtures/dovecot.conf``, loopback, plain
login), an SMTP server that accepts everything (aiosmtpd, in this process, counting), and
``satupintu run`` as a subprocess configured through SATUPINTU_* variables, exactly as an operator
would (with ``--split``: one ``satupintu worker <component>`` process per component over RabbitMQ
+ PostgreSQL instead, the layout that spreads the work over cores). Once the pipeline is ready
and idling on the empty mailbox, N mails are written into the Maildir at once (the mix of
``peer-harness/gen_mail.py``: 60 % plain, 30 % with an HTML alternative, 10 % with a 50 KB PDF
attached; a sender of its own each). The clock runs from the
last mail written to the N-th receipt accepted by the SMTP server:

    mails/s = N / (last receipt accepted - mails written)

Afterwards it checks, read-only, that there are N raw messages, N cases and N receipts sent,
nothing dead, and that the SMTP server got N receipts to N distinct addresses. Any problem makes
the exit code 1. Prints one JSON line and a summary.

    .venv/bin/python bench/email_import.py --mails 5000 [--backend rabbitmq-postgres | --split]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from connectors.email.tests.dovecot import running_dovecot  # noqa: E402
from connectors.email.tests.mails import UNIT, mixed  # noqa: E402

POSTGRES = os.environ.get("SATUPINTU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SPLIT = ("http", "normalizer", "triage", "deliver", "sweeper")
"""``--split``: the components, one process each, as an operator spreads them over cores."""
RABBITMQ = os.environ.get("SATUPINTU_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")


class Counting:
    """Accepts every mail; remembers when each arrived and to whom."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[float] = []
        self.recipients: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data_dir: Path, database_url: str, broker_url: str, email: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(
        SATUPINTU_DATA_DIR=str(data_dir),
        SATUPINTU_DATABASE_URL=database_url,
        SATUPINTU_BROKER_URL=broker_url,
        SATUPINTU_HTTP__PORT=str(free_port()),
        SATUPINTU_HTTP__ADMIN_PORT=str(free_port()),
        SATUPINTU_PIPELINE__QUEUE_PREFIX=f"bench{uuid.uuid4().hex[:8]}",
        SATUPINTU_LOG__LEVEL="WARNING",
        SATUPINTU_LOG__FORMAT="json",
    )
    for key, value in email.items():
        env[f"SATUPINTU_CONNECTORS__EMAIL__{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def scalar(engine: Any, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def stages(engine: Any) -> dict[str, float]:
    """How far the mails got: raw messages per state, and receipts sent."""
    with engine.connect() as connection:
        raw = dict(connection.execute(text("SELECT state, count(*) FROM raw_message GROUP BY state")).all())
        sent = connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'sent'")).scalar() or 0
    return {**{str(k): float(v) for k, v in raw.items()}, "sent": float(sent)}


def wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(what)


def run(args: argparse.Namespace) -> dict[str, Any]:  # noqa: PLR0915 - one run, read top to bottom
    rng = random.Random(args.seed)
    mails = [mixed(n, rng) for n in range(args.mails)]
    work = Path(tempfile.mkdtemp(prefix="satupintu-bench-email-"))
    database, admin = f"sqlite:///{work / 'satupintu.db'}", None
    broker = "memory://"
    if args.backend == "rabbitmq-postgres":
        name = f"bench_email_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        database, broker = POSTGRES.rsplit("/", 1)[0] + f"/{name}", RABBITMQ
    counting = Counting()
    smtp = Controller(counting, hostname="127.0.0.1", port=free_port())
    smtp.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with running_dovecot() as dovecot:
            mailbox = dovecot.add_user()
            section = mailbox.section(
                UNIT, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="plain", auto_replies_per_hour=10
            )
            env = environment(work / "var", database, broker, section)
            subprocess.run([sys.executable, "-m", "workers", "db", "upgrade"], cwd=REPO, env=env, check=True)
            log = (work / "server.log").open("wb")
            for command in [["worker", c] for c in SPLIT] if args.split else [["run"]]:
                own = {**env, "SATUPINTU_HTTP__ADMIN_PORT": str(free_port())}  # each process has its probes
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "workers", *command], cwd=REPO, env=own, stdout=log, stderr=log
                    )
                )
            engine = create_engine(database)
            wait(
                lambda: scalar(engine, "SELECT count(*) FROM connector_state WHERE key = 'health:INBOX'") > 0,
                60,
                "the pull loop never reported",
            )
            written_at = time.monotonic()
            mailbox.write(mails)
            written = time.monotonic()
            progress: list[dict[str, float]] = []

            def arrived() -> bool:
                if args.progress and (not progress or time.monotonic() - progress[-1]["t"] - written >= 0.5):
                    progress.append({"t": time.monotonic() - written, **stages(engine), "smtp": len(counting.arrivals)})
                    print(json.dumps(progress[-1]), file=sys.stderr)
                return len(counting.arrivals) >= int(args.mails)

            wait(arrived, args.timeout, "not every receipt was accepted")
            done = max(counting.arrivals)
            time.sleep(1.0)  # anything doubled shows now
            checks = {
                "raw_messages": scalar(engine, "SELECT count(*) FROM raw_message"),
                "cases": scalar(engine, "SELECT count(*) FROM cases"),
                "receipts_sent": scalar(engine, "SELECT count(*) FROM outbox WHERE state = 'sent'"),
                "dead": scalar(engine, "SELECT count(*) FROM raw_message WHERE state = 'dead'")
                + scalar(engine, "SELECT count(*) FROM outbox WHERE state = 'dead'"),
                "smtp_accepted": len(counting.arrivals),
                "smtp_recipients": len(counting.recipients),
            }
            engine.dispose()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    seconds = done - written
    return {
        "backend": args.backend,
        "layout": "split" if args.split else "run",
        "mails": args.mails,
        "bytes": sum(len(m) for m in mails),
        "write_seconds": round(written - written_at, 3),
        "seconds": round(seconds, 3),
        "mails_per_second": round(args.mails / seconds, 1),
        "checks": checks,
        "ok": all(
            checks[k] == args.mails
            for k in ("raw_messages", "cases", "receipts_sent", "smtp_accepted", "smtp_recipients")
        )
        and checks["dead"] == 0,
        "work_dir": str(work),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=5000)
    parser.add_argument("--backend", choices=["embedded", "rabbitmq-postgres"], default="embedded")
    parser.add_argument(
        "--split",
        action="store_true",
        help="one `satupintu worker` process per component (http/pull, normalizer, triage, deliver, sweeper) "
        "over RabbitMQ + PostgreSQL, instead of `satupintu run`",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--progress", action="store_true", help="print the stages every 0.5 s on stderr")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every receipt")
    args = parser.parse_args()
    if args.split:
        args.backend = "rabbitmq-postgres"  # memory:// lives inside one process
    result = run(args)
    print(json.dumps(result))
    print(
        f"{result['mails']} mails -> cases with receipts in {result['seconds']} s: "
        f"{result['mails_per_second']} mails/s ({result['backend']}, {result['layout']}); "
        f"checks {'ok' if result['ok'] else 'FAILED'}",
        file=sys.stderr,
    )
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
