"""The officers' terminal view of cases: local times, the reporter, attachments, confidentiality."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.support import eventually, make_settings, running_pipeline
from workers import cli

CONFIDENTIAL = {
    "name": "Rina Wulandari",
    "email": "rina@example.id",
    "phone": "081234567890",
    "text": "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan.",
}


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    """A database with a confidential case and a case with an attachment, receipts delivered."""
    settings = make_settings(tmp_path / "var")
    async with running_pipeline(settings) as app:
        async with aiohttp.ClientSession(app.base_url) as http:
            async with http.post("/api/v1/reports", json=CONFIDENTIAL) as response:
                assert response.status == 202
            form = aiohttp.FormData()
            form.add_field("name", "Sari")
            form.add_field("email", "sari@example.id")
            form.add_field("text", "Lampu kelas E-101 mati sejak kemarin, foto terlampir.")
            form.add_field("photo", b"\x89PNG fake image", filename="lampu.png", content_type="image/png")
            async with http.post("/api/v1/reports", data=form) as response:
                assert response.status == 202
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)
    return {"SATUPINTU_DATA_DIR": str(settings.data_dir)}


def invoke(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, obj={})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def listed(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(invoke(env, "cases", "list", "--format", "json", *args).output)
    return cases


def tracking(env: dict[str, str], confidential: bool) -> str:
    return str(next(c["tracking_number"] for c in listed(env) if c["confidential"] == confidential))


def test_times_are_shown_in_the_units_zone(env: dict[str, str]) -> None:
    table = invoke(env, "cases", "list").output
    assert re.search(r"due \d{4}-\d\d-\d\d 16:00 WITA", table), table  # closing time, as the receipt says
    assert "Z " not in table

    shown = invoke(env, "cases", "show", tracking(env, False)).output
    assert re.search(r"first_response_due +\d{4}-\d\d-\d\d 16:00 WITA", shown), shown
    assert re.search(r"\d\d:\d\d:\d\d WITA system:triage created", shown), shown

    [case] = [c for c in listed(env) if not c["confidential"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT16:00:00\+08:00", case["first_response_due"])


def test_another_zone_shows_its_own_offset(env: dict[str, str]) -> None:
    singapore = {**env, "SATUPINTU_TIMEZONE": "Asia/Singapore"}  # no abbreviation in tzdata: "+08"
    assert re.search(r"due \d{4}-\d\d-\d\d 16:00 \+08:00", invoke(singapore, "cases", "list").output)
    jakarta = {**env, "SATUPINTU_TIMEZONE": "Asia/Jakarta"}
    assert re.search(r"due \d{4}-\d\d-\d\d 15:00 WIB", invoke(jakarta, "cases", "list").output)


def test_show_has_the_reporter_and_the_attachments(env: dict[str, str]) -> None:
    reference = tracking(env, False)
    shown = invoke(env, "cases", "show", reference).output
    assert re.search(r"reporter +Sari +sari@example\.id", shown), shown
    assert "lampu.png (image/png, 15 bytes)" in shown

    case = json.loads(invoke(env, "cases", "show", reference, "--format", "json").output)
    assert case["reporter"]["name"] == "Sari" and case["reporter"]["email"] == ["sari@example.id"]
    [attachment] = case["attachments"]
    assert attachment["filename"] == "lampu.png" and attachment["content_type"] == "image/png"
    assert attachment["size"] == 15 and attachment["message_id"] == case["messages"][0]["id"]


def test_a_confidential_reporter_is_hidden_unless_revealed_and_revealing_is_audited(env: dict[str, str]) -> None:
    reference = tracking(env, True)
    for output in ("table", "json"):
        hidden = invoke(env, "cases", "show", reference, "--format", output).output
        assert "[rahasia]" in hidden
        for identity in ("Rina", "rina@example.id", "81234567890"):
            assert identity not in hidden, output

    revealed = invoke(env, "cases", "show", reference, "--reveal").output
    assert re.search(r"reporter +Rina Wulandari +rina@example\.id +\+6281234567890", revealed), revealed
    case = json.loads(invoke(env, "cases", "show", reference, "--reveal", "--format", "json").output)
    assert case["reporter"]["phone"] == ["+6281234567890"]
    assert [e["action"] for e in case["events"]][-1] == "reporter_revealed"
    assert case["events"][-1]["actor"].startswith("cli:")


def test_the_list_hides_confidential_subjects_in_json_too(env: dict[str, str]) -> None:
    [hidden] = [c for c in listed(env) if c["confidential"]]
    assert hidden["subject"] == "[rahasia]"
    [revealed] = [c for c in listed(env, "--reveal") if c["confidential"]]
    assert "pelecehan" in revealed["subject"]
    assert "pelecehan" in invoke(env, "cases", "list", "--reveal").output


def test_a_mistyped_check_digit_is_pointed_out(env: dict[str, str]) -> None:
    reference = tracking(env, False)
    wrong = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    result = CliRunner().invoke(cli, ["cases", "show", wrong], env=env, obj={})
    assert result.exit_code == 1
    assert "check digit does not match" in result.output and "no such case" not in result.output
