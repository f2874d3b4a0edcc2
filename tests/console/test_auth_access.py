"""The role rules of ``console/access.py`` with the shipped configuration: who sees which unit's
cases, who may act, who sees a protected reporter, and the audit event of every such view."""

from __future__ import annotations

import json

import aiohttp
import pytest

from config.routing import load_routing
from config.settings import AccessSettings, ConfigError, load_settings
from console.access import in_scope, may_act, may_see_reporter, record_identity_view, unit_scope
from console.auth import Officer
from storage.db import transaction
from tests.console.support import console_app
from tests.support import SettingsFactory, eventually

ADMIN = Officer(1, "admin", "admin", None)
ULT = Officer(2, "ult", "ult", None)
AUDITOR = Officer(3, "auditor", "auditor", None)
PPKPT = Officer(4, "satgas", "unit", "ppkpt")
SARPRAS = Officer(5, "sarpras", "unit", "sarpras")
LOST = Officer(6, "lost", "unit", None)
"""A unit officer without a unit, which ``officers add`` refuses: sees nothing rather than all."""


def case(unit: str, *, confidential: bool = False, anonymous: bool = False) -> dict[str, object]:
    return {"unit": unit, "confidential": confidential, "anonymous": anonymous}


def test_unit_officers_see_their_unit_and_the_others_every_unit() -> None:
    assert [unit_scope(o) for o in (ADMIN, ULT, AUDITOR)] == [None, None, None]
    assert unit_scope(PPKPT) == "ppkpt" and unit_scope(SARPRAS) == "sarpras"
    assert in_scope(SARPRAS, "sarpras") and not in_scope(SARPRAS, "ppkpt")
    assert in_scope(ULT, "ppkpt") and in_scope(AUDITOR, "spi")
    assert unit_scope(LOST) not in {None, "sarpras", "ppkpt"} and not in_scope(LOST, "sarpras")


def test_only_the_auditor_is_read_only() -> None:
    assert [may_act(o) for o in (ADMIN, ULT, PPKPT, SARPRAS, AUDITOR)] == [True, True, True, True, False]


def test_who_sees_a_protected_reporter_with_the_shipped_configuration() -> None:
    access = load_settings().access
    confidential = case("ppkpt", confidential=True)
    seen = {o.name: may_see_reporter(access, o, confidential) for o in (ADMIN, ULT, AUDITOR, PPKPT, SARPRAS)}
    assert seen == {"admin": True, "ult": False, "auditor": False, "satgas": True, "sarpras": False}
    spi = Officer(7, "spi", "unit", "spi")
    assert may_see_reporter(access, spi, case("spi", confidential=True))
    assert not may_see_reporter(access, SARPRAS, case("sarpras", confidential=True)), "sarpras is granted nothing"
    anonymous = case("ppkpt", confidential=True, anonymous=True)
    assert [may_see_reporter(access, o, anonymous) for o in (ADMIN, ULT, PPKPT)] == [True, False, False]
    plain = case("sarpras")
    assert all(may_see_reporter(access, o, plain) for o in (ADMIN, ULT, AUDITOR, SARPRAS))
    assert not may_see_reporter(access, PPKPT, plain), "another unit's case: nothing of it, its reporter neither"


def test_the_rights_follow_the_configuration_and_no_unit_is_named_in_code() -> None:
    units = {unit.key for unit in load_routing(load_settings().routing_file).units}
    defaults = AccessSettings()
    assert not set(defaults.unit_identity_roles) & units, "the shipped units are named in config/satupintu.toml"
    assert defaults.identity_roles == ["admin"]
    wider = AccessSettings(identity_roles=["admin", "ult"], unit_identity_roles={"sarpras": ["unit", "auditor"]})
    assert may_see_reporter(wider, ULT, case("ppkpt", anonymous=True))
    assert may_see_reporter(wider, AUDITOR, case("sarpras", confidential=True))
    assert may_see_reporter(wider, SARPRAS, case("sarpras", confidential=True))


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"identity_roles": ["rektor"]}, "access.identity_roles"),
        ({"unit_identity_roles": {"ppkpt": ["satgas_ppkpt"]}}, "access.unit_identity_roles"),
        ({"roles": ["ult_admin"]}, "access.roles"),
    ],
)
def test_old_or_unknown_role_names_in_the_configuration_are_refused(section: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace(".", r"\.")):
        load_settings(access=section)


async def test_every_view_of_a_protected_reporter_is_an_audit_event_with_the_officers_name(
    backend_settings: SettingsFactory,
) -> None:
    disclosure = "Dosen pembimbing saya melakukan pelecehan di ruang bimbingan gedung D kemarin malam."
    async with console_app(backend_settings()) as app:
        async with aiohttp.ClientSession(app.base_url) as http:
            report = {"name": "Sinta", "email": "sinta@example.id", "text": disclosure}
            async with http.post("/api/v1/reports", json=report) as response:
                assert response.status == 202
        [found] = await eventually(lambda: app.rows("SELECT id, unit, confidential, anonymous FROM cases"))
        assert found["confidential"] and found["unit"] == "ppkpt"
        [satgas] = app.rows("SELECT id, name, role, unit, language FROM officer WHERE name = 'unit_ppkpt'")
        officer = Officer(**satgas)
        assert may_see_reporter(load_settings().access, officer, found)
        with transaction(app.engine) as connection:
            record_identity_view(connection, officer, found["id"])
        [event] = app.rows(
            "SELECT actor, action, detail FROM case_event WHERE case_id = :c AND action = 'reporter_revealed'",
            c=found["id"],
        )
        detail = event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
        assert event["actor"] == "unit_ppkpt" and detail == {"role": "unit", "via": "console"}
