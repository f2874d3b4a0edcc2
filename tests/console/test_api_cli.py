"""The two actions the console needed that the terminal lacked, on the command line too: the
same functions of ``triage/lifecycle.py`` answer ``satupintu cases correct`` and ``cases reply
--channel`` as the API's actions."""

from __future__ import annotations

import json
from email.message import Message
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from tests.console.support import console_app
from tests.console.test_api_support import TIK, Api, report
from tests.support import Mailbox, eventually, mail_through, make_settings, smtp_server
from workers import cli


async def test_cases_correct_and_reply_by_another_channel(tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = make_settings(tmp_path / "var", connectors=mail_through(port))
        env = {
            "SATUPINTU_DATA_DIR": str(settings.data_dir),
            "SATUPINTU_DATABASE_URL": settings.database_url,
            "SATUPINTU_CONNECTORS": json.dumps(settings.connectors),
        }
        async with console_app(settings) as app, aiohttp.ClientSession(app.base_url) as http:
            number = (await report(Api(http), TIK, email="rina@example.id")).tracking_number
            runner = CliRunner()

            corrected = runner.invoke(
                cli, ["cases", "correct", number, "--unit", "ppkpt", "--by", "cli:tester"], env=env, obj={}
            )
            assert corrected.exit_code == 0, corrected.output
            assert app.scalar("SELECT confidential FROM cases WHERE tracking_number = :n", n=number)
            again = runner.invoke(cli, ["cases", "correct", number, "--unit", "ppkpt"], env=env, obj={})
            assert again.exit_code == 1 and "already has kind" in again.output

            replied = runner.invoke(
                cli,
                ["cases", "reply", number, "--text", "Kami hubungi lewat email.", "--channel", "email"],
                env=env,
                obj={},
            )
            assert replied.exit_code == 0, replied.output
            assert "messages queued: email" in replied.output
            await eventually(lambda: any("lewat email" in _text(m) for m in mailbox.received))
            refused = runner.invoke(
                cli, ["cases", "reply", number, "--text", "x", "--channel", "telegram"], env=env, obj={}
            )
            assert refused.exit_code == 1 and "telegram reaches no phone or email" in refused.output


def _text(mail: Message) -> str:
    parts = [part.get_payload(decode=True) for part in mail.walk() if part.get_content_type() == "text/plain"]
    return "".join(part.decode() for part in parts if isinstance(part, bytes))
