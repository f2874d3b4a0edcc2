"""A confidential case without --reveal hides the identities an error quotes, in its outbox rows
and in its audit trail, even in rows written before errors were redacted as they are stored."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from click.testing import CliRunner
from sqlalchemy import text

from storage.cases import record_events
from storage.db import create_db_engine
from tests.support import eventually, make_settings, running_pipeline
from workers import cli

REPORT = {
    "name": "Rina Wulandari",
    "email": "rina@example.id",
    "text": "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan.",
}
REFUSAL = "550 5.1.1 <rina@example.id>: Recipient address rejected; call 081234567890"


async def test_a_confidential_cases_errors_hide_the_identities_they_quote(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    env = {"SATUPINTU_DATA_DIR": str(settings.data_dir)}
    async with running_pipeline(settings) as app:
        async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=REPORT) as response:
            assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1)
        case_id, tracking = app.rows("SELECT id, tracking_number FROM cases WHERE confidential")[0].values()

    engine = create_db_engine(settings.database_url)
    try:
        with engine.begin() as connection:  # as an older release wrote a refused receipt
            connection.execute(text("UPDATE outbox SET error = :error"), {"error": f"permanent: {REFUSAL}"})
            detail = {"channel": "webform", "error": f"permanent: {REFUSAL}", "reason": REFUSAL}
            record_events(
                connection,
                [{"case_id": case_id, "actor": "system:deliver", "action": "receipt_failed", "detail": detail}],
            )
    finally:
        engine.dispose()

    runner = CliRunner()
    hidden = runner.invoke(cli, ["cases", "show", tracking, "--format", "json"], env=env, obj={})
    assert hidden.exit_code == 0, hidden.output
    for identity in ("rina@example.id", "081234567890"):
        assert identity not in hidden.output
    case = json.loads(hidden.stdout)
    [row] = case["outbox"]
    assert row["error"] == "permanent: 550 5.1.1 <<email>>: Recipient address rejected; call <phone>"
    [failed] = [e for e in case["events"] if e["action"] == "receipt_failed"]
    assert failed["detail"]["reason"].startswith("550 5.1.1 <<email>>") and "<phone>" in failed["detail"]["error"]

    revealed = runner.invoke(cli, ["cases", "show", tracking, "--format", "json", "--reveal"], env=env, obj={})
    assert revealed.exit_code == 0 and "rina@example.id" in json.loads(revealed.stdout)["outbox"][0]["error"]
