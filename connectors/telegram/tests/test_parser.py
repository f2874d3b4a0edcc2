"""What the parser makes of each kind of update an officer must be able to read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import NormalizedMessage, UnsupportedEvent
from connectors.telegram.intake import screen
from connectors.telegram.parser import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def parsed(update: dict[str, Any]) -> NormalizedMessage:
    screened = screen(update, NOW)
    assert screened.raw is not None, screened.refused
    message = parse(7, screened.raw)
    assert isinstance(message, NormalizedMessage)
    return message


def test_a_text_message_is_from_its_chat_and_sender() -> None:
    message = parsed(load("message__text"))
    assert message.conversation_key == "telegram:700100200"
    assert message.channel_message_id == "700100200:41"
    assert message.reporter.name == "Rina Wulandari"
    assert message.reporter.channel_user_id == "700100200"
    assert message.reporter.handle == "rina_w"
    assert message.reporter.phone_raw is None
    assert message.text.startswith("Selamat siang, UKT saya sudah dibayar")
    assert message.received_at == datetime.fromtimestamp(1764561600, UTC)


def test_a_photo_is_fetched_in_its_largest_size_with_its_caption_as_text() -> None:
    message = parsed(load("message__photo_caption"))
    assert message.text == "Bukti transfer UKT"
    assert [(m.media_id, m.kind, m.size) for m in message.media] == [("AgACAgUAAxkBAAIBlarge", "image", 68411)]


@pytest.mark.parametrize(
    ("fixture", "kind", "content_type", "filename"),
    [
        ("message__document", "document", "application/pdf", "bukti-bayar.pdf"),
        ("message__voice", "voice", "audio/ogg", None),
    ],
)
def test_files_are_media_by_reference(fixture: str, kind: str, content_type: str, filename: str | None) -> None:
    (media,) = parsed(load(fixture)).media
    assert (media.kind, media.content_type, media.filename) == (kind, content_type, filename)


def test_a_contact_the_sender_shares_about_themselves_is_their_proven_phone() -> None:
    message = parsed(load("message__contact_own"))
    assert message.reporter.phone_raw == "6281234567890"
    assert message.extra["phone_proven"] is True
    assert message.text == "", "an identity, not a report: alone it opens no case"
    assert message.extra["shared_own_contact"] is True


def test_someone_elses_contact_card_is_a_note_not_an_identity() -> None:
    message = parsed(load("message__contact_other"))
    assert message.reporter.phone_raw is None
    assert "phone_proven" not in message.extra
    assert "Pak Budi" in message.text and "+6285711112222" in message.text
    assert message.extra["contact_card"] == {"name": "Pak Budi", "phone_number": "+6285711112222"}


def test_a_location_is_a_note_with_its_coordinates() -> None:
    message = parsed(load("message__location"))
    assert "-1.150731, 116.862541" in message.text
    assert message.extra["location"] == {"latitude": -1.150731, "longitude": 116.862541}


def test_a_reply_names_the_message_it_answers() -> None:
    assert parsed(load("message__reply")).in_reply_to == ("700100200:41",)


def test_a_command_is_passed_through_for_triage_and_a_bot_tag_dropped() -> None:
    assert parsed(load("message__command_status")).text == "/status 26-0000123"
    update = load("message__command_status")
    update["message"]["text"] = "/status@ult_kampus_bot 26-0000123"
    assert parsed(update).text == "/status 26-0000123"


def test_an_edit_is_kept_beside_the_original_and_shown_as_an_edit() -> None:
    original, edit = load("message__text"), load("edited_message__text")
    first, second = screen(original, NOW).raw, screen(edit, NOW).raw
    assert first is not None and second is not None
    assert first.external_id != second.external_id, "an edit is not a resend of the original"
    assert screen(edit, NOW).raw == second, "the same edit twice has the same key"
    message = parsed(edit)
    assert message.text.startswith("(pesan diubah) Selamat siang, UKT semester ganjil")
    assert message.extra["edit_of"] == "700100200:41"
    assert message.in_reply_to[0] == "700100200:41"
    assert message.received_at == datetime.fromtimestamp(1764562140, UTC)


@pytest.mark.parametrize("fixture", ["callback_query", "my_chat_member__blocked"])
def test_updates_that_carry_no_report_are_ignored_by_name(fixture: str) -> None:
    screened = screen(load(fixture), NOW)
    assert screened.raw is not None
    assert parse(7, screened.raw) is None


def test_an_unknown_update_type_is_unsupported_with_its_name() -> None:
    screened = screen({"update_id": 5, "future_thing": {"x": 1}}, NOW)
    assert screened.raw is not None
    with pytest.raises(UnsupportedEvent, match="future_thing"):
        parse(7, screened.raw)


def test_a_group_chat_is_not_a_reporter_nothing_is_kept_and_it_is_told() -> None:
    update = load("message__text")
    update["message"]["chat"] = {"id": -4123456789, "title": "Himpunan", "type": "group"}
    screened = screen(update, NOW)
    assert screened.raw is None
    assert screened.tell == -4123456789
    assert screened.refused and "group" in screened.refused


def test_a_channel_post_is_not_kept_and_the_channel_is_not_written_to() -> None:
    update = {
        "update_id": 9,
        "channel_post": {"message_id": 1, "chat": {"id": -100123, "type": "channel"}, "date": 1, "text": "x"},
    }
    screened = screen(update, NOW)
    assert screened.raw is None and screened.tell is None and screened.refused


def test_being_added_to_a_group_is_answered_once_and_not_kept() -> None:
    bot = {"id": 123456, "is_bot": True, "first_name": "ULT Kampus", "username": "ult_kampus_bot"}
    added: dict[str, Any] = {
        "update_id": 11,
        "my_chat_member": {
            "chat": {"id": -100555, "title": "Angkatan 2024", "type": "supergroup"},
            "from": {"id": 5, "is_bot": False, "first_name": "Admin"},
            "date": 1764561600,
            "old_chat_member": {"user": bot, "status": "left"},
            "new_chat_member": {"user": bot, "status": "member"},
        },
    }
    screened = screen(added, NOW)
    assert screened.raw is None and screened.tell == -100555
    added["my_chat_member"]["new_chat_member"]["status"] = "left"  # removed again: nothing to say
    assert screen(added, NOW).tell is None
