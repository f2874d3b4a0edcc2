"""The officers' terminal view of cases: local times, the reporter, attachments, confidentiality."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, text

from storage.db import create_db_engine
from tests.support import eventually, make_settings, running_pipeline
from workers import cli

CONFIDENTIAL = {
    "name": "Rina Wulandari",
    "email": "rina@example.id",
    "phone": "081234567890",
    "text": "Dosen pembimbing saya melakukan pelecehan, tolong dirahasiakan.",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """A database with a confidential case and a case with an attachment, receipts delivered."""
    database = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("postgres_url")}
    settings = make_settings(tmp_path / "var", **database)
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
    return {"SATUPINTU_DATA_DIR": str(settings.data_dir), "SATUPINTU_DATABASE_URL": settings.database_url}


def invoke(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, obj={})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def listed(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(invoke(env, "cases", "list", "--format", "json", *args).stdout)
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

    case = json.loads(invoke(env, "cases", "show", reference, "--format", "json").stdout)
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
    case = json.loads(invoke(env, "cases", "show", reference, "--reveal", "--format", "json").stdout)
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


def test_show_says_how_the_receipt_went(env: dict[str, str]) -> None:
    shown = invoke(env, "cases", "show", tracking(env, False)).output
    assert re.search(r"receipt_via +webform", shown), shown
    case = json.loads(invoke(env, "cases", "show", tracking(env, False), "--format", "json").stdout)
    assert case["receipt_via"] == "webform"


def test_a_receipt_no_channel_could_carry_is_to_be_given_in_person(env: dict[str, str]) -> None:
    with database(env) as connection:
        connection.execute(text("UPDATE cases SET receipt_via = NULL WHERE NOT confidential"))
    shown = invoke(env, "cases", "show", tracking(env, False)).output
    assert re.search(r"receipt_via +in person / by phone", shown), shown


def test_media_that_could_not_be_fetched_is_shown_with_the_reason(env: dict[str, str]) -> None:
    """What the media step records when a channel's media id cannot be fetched any more."""
    with database(env) as connection:
        connection.execute(
            text(
                "INSERT INTO media (raw_message_id, position, channel, media_id, kind, filename, state, attempts, "
                "next_attempt_at, error, created_at) SELECT raw_message_id, 0, 'webform', 'm-1', 'image', NULL, "
                "'failed', 5, received_at, 'the provider answered 404', received_at FROM case_message "
                "WHERE case_id = (SELECT id FROM cases WHERE NOT confidential)"
            )
        )
    shown = invoke(env, "cases", "show", tracking(env, False)).output
    assert "attachment: image could not be fetched: the provider answered 404" in shown, shown
    assert "lampu.png (image/png, 15 bytes)" in shown


def test_a_confidential_case_hides_the_name_its_message_gave(env: dict[str, str]) -> None:
    reference = tracking(env, True)
    hidden = json.loads(invoke(env, "cases", "show", reference, "--format", "json").stdout)
    assert hidden["reporter_name"] == "[rahasia]"
    revealed = json.loads(invoke(env, "cases", "show", reference, "--reveal", "--format", "json").stdout)
    assert revealed["reporter_name"] == "Rina Wulandari"


@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [("--status", "bogus", "received"), ("--unit", "nosuch", "ppkpt"), ("--channel", "wa", "webform")],
)
def test_an_unknown_filter_value_is_refused_with_the_valid_ones(
    env: dict[str, str], option: str, value: str, valid: str
) -> None:
    result = CliRunner().invoke(cli, ["cases", "list", option, value], env=env, obj={})
    assert result.exit_code == 2, result.output
    assert f"'{value}' is not a case {option[2:]}" in result.output and valid in result.output
    assert "no cases" not in result.output


def test_known_filter_values_filter(env: dict[str, str]) -> None:
    assert len(listed(env, "--status", "received")) == 2
    [confidential] = listed(env, "--unit", "ppkpt")
    assert confidential["confidential"]
    assert len(listed(env, "--channel", "webform")) == 2
    assert invoke(env, "cases", "list", "--unit", "akademik").output == "no cases\n"


def test_a_value_only_stored_cases_have_is_still_a_filter(env: dict[str, str]) -> None:
    """A unit dropped from routing.toml or a connector since uninstalled still has its old cases."""
    with database(env) as connection:
        connection.execute(text("UPDATE cases SET channel = 'faks' WHERE confidential"))
    [case] = listed(env, "--channel", "faks")
    assert case["confidential"]


@contextmanager
def database(env: dict[str, str]) -> Iterator[Connection]:
    engine = create_db_engine(env["SATUPINTU_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def test_the_list_marks_and_filters_the_cases_whose_number_is_given_in_person(env: dict[str, str]) -> None:
    with database(env) as connection:
        connection.execute(text("UPDATE cases SET receipt_via = NULL WHERE NOT confidential"))
    in_person, sent = tracking(env, False), tracking(env, True)
    lines = invoke(env, "cases", "list").output.splitlines()
    assert re.search(r" webform +in-person +due ", next(line for line in lines if in_person in line)), lines
    assert re.search(r" webform +webform +due ", next(line for line in lines if sent in line)), lines
    assert {case["tracking_number"]: case["receipt_via"] for case in listed(env)} == {in_person: None, sent: "webform"}
    [only] = listed(env, "--in-person")
    assert only["tracking_number"] == in_person
