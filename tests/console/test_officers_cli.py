"""``satupintu officers``: what an admin at the terminal makes, and what it opens in the console."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from click.testing import CliRunner, Result

from config.settings import Settings
from tests.console.support import PASSWORD, bearer, client, log_in, logged_in
from tests.support import SettingsFactory, make_settings, running_pipeline
from workers import cli

NOWHERE = "/api/v1/no-such-endpoint"
ME = "/api/v1/officers/me"


def environment(settings: Settings) -> dict[str, str]:
    return {"SATUPINTU_DATA_DIR": str(settings.data_dir), "SATUPINTU_DATABASE_URL": settings.database_url}


def officers(env: dict[str, str], *args: str, stdin: str | None = None, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["officers", *args], env=env, input=stdin, obj={})
    assert result.exit_code == code, (result.output, result.exception)
    return result


def add(env: dict[str, str], name: str, *options: str, password: str = PASSWORD, code: int = 0) -> Result:
    return officers(env, "add", name, *options, "--password-stdin", stdin=password + "\n", code=code)


async def test_officers_made_at_the_terminal_log_in_with_their_role(backend_settings: SettingsFactory) -> None:
    settings = backend_settings()
    env = environment(settings)
    async with running_pipeline(settings) as app:
        assert add(env, "Budi", "--role", "ult", code=1).output.count("lowercase") == 1
        assert "added budi.santoso (ult)" in add(env, "budi.santoso", "--role", "ult").output
        assert "added satgas (unit, unit ppkpt)" in add(env, "satgas", "--role", "unit", "--unit", "ppkpt").output
        add(env, "audit", "--role", "auditor", "--language", "en")
        add(env, "root", "--role", "admin")

        assert "needs --unit" in add(env, "nounit", "--role", "unit", code=1).output
        assert "only for role unit" in add(env, "ultunit", "--role", "ult", "--unit", "ppkpt", code=1).output
        refused = add(env, "ghost", "--role", "unit", "--unit", "fakultas_sihir", code=1).output
        assert "'fakultas_sihir' is not a unit" in refused and "ppkpt" in refused, "the known units are listed"
        assert "exists" in add(env, "satgas", "--role", "ult", code=1).output
        assert "at least 10 characters" in add(env, "short", "--role", "ult", password="pendek", code=1).output
        assert "too easy" in add(env, "aaaaaaaaaaaa", "--role", "ult", password="aaaaaaaaaaaa", code=1).output
        assert officers(env, "add", "typed", "--role", "ult", code=2).output.count("--password-stdin") == 1
        assert "Invalid value for '--role'" in add(env, "rektor", "--role", "rektor", code=2).output

        listed = json.loads(officers(env, "list", "--format", "json").stdout)
        assert [(o["name"], o["role"], o["unit"], o["language"]) for o in listed] == [
            ("audit", "auditor", None, "en"),
            ("budi.santoso", "ult", None, "id"),
            ("root", "admin", None, "id"),
            ("satgas", "unit", "ppkpt", "id"),
        ]
        assert all("password_hash" not in o for o in listed), "the list never shows a hash"
        table = officers(env, "list").stdout.splitlines()
        assert table[0].split() == ["NAME", "ROLE", "UNIT", "LANG", "STATE", "TOKENS"]
        assert [line.split()[0] for line in table[1:]] == ["audit", "budi.santoso", "root", "satgas"]
        assert [o["name"] for o in json.loads(officers(env, "list", "--unit", "ppkpt", "--format", "json").stdout)] == [
            "satgas"
        ]
        assert PASSWORD not in json.dumps(app.rows("SELECT * FROM officer"), default=str)

        async with logged_in(app.base_url, "satgas") as browser:
            async with browser.http.get(ME) as response:
                assert response.status == 200, "a fresh officer logs in"
                assert ((await response.json())["unit"]) == "ppkpt"
            moved = officers(env, "set", "satgas", "--unit", "sarpras").output
            assert "satgas is now unit, unit sarpras" in moved
            async with browser.http.get(ME) as response:
                assert (await response.json())["unit"] == "sarpras", "a move applies from the next request"
        assert "only for role unit" in officers(env, "set", "budi.santoso", "--unit", "spi", code=1).output
        assert "needs --unit" in officers(env, "set", "budi.santoso", "--role", "unit", code=1).output
        assert "is now ult," in officers(env, "set", "satgas", "--role", "ult").output
        assert "say what changes" in officers(env, "set", "satgas", code=2).output
        [row] = app.rows("SELECT role, unit FROM officer WHERE name = 'satgas'")
        assert (row["role"], row["unit"]) == ("ult", None)


async def test_disable_reset_password_and_tokens_take_effect_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    env = environment(settings)
    async with running_pipeline(settings) as app:
        add(env, "budi", "--role", "ult")
        token = officers(env, "token", "budi").stdout.strip()
        assert token.startswith("sp_") and len(token) > 40 and "\n" not in token, "the token alone, for a script"
        assert app.scalar("SELECT count(*) FROM officer_token WHERE token_hash = :t", t=token) == 0, "only its hash"
        async with aiohttp.ClientSession(app.base_url) as script:
            async with script.get(NOWHERE, headers=bearer(token)) as response:
                assert response.status == 404
            assert json.loads(officers(env, "list", "--format", "json").stdout)[0]["tokens"] == 1

            async with logged_in(app.base_url, "budi") as browser:
                assert (
                    "new password set for budi"
                    in officers(env, "reset-password", "budi", "--password-stdin", stdin="kata-sandi-baru-77\n").output
                )
                async with browser.http.get(NOWHERE) as response:
                    assert response.status == 401, "a new password ends the sessions"
            async with script.get(NOWHERE, headers=bearer(token)) as response:
                assert response.status == 404, "but not the integration's token"
            async with client(app.base_url) as http:
                response = await log_in(http, "budi", PASSWORD)
                async with response:
                    assert response.status == 401, "the old password no longer opens"
            async with logged_in(app.base_url, "budi", "kata-sandi-baru-77") as browser:
                assert "disabled budi" in officers(env, "disable", "budi").output
                async with browser.http.get(NOWHERE) as response:
                    assert response.status == 401, "disabling ends the session"
            async with script.get(NOWHERE, headers=bearer(token)) as response:
                assert response.status == 401, "and revokes the token"
            assert "was disabled already" in officers(env, "disable", "budi").output
            assert "is disabled" in officers(env, "token", "budi", code=1).output
            async with client(app.base_url) as http:
                response = await log_in(http, "budi", "kata-sandi-baru-77")
                async with response:
                    assert response.status == 401
            assert "disabled" in officers(env, "list").stdout.splitlines()[1]

            assert "enabled budi" in officers(env, "enable", "budi").output
            async with script.get(NOWHERE, headers=bearer(token)) as response:
                assert response.status == 401, "an old token stays revoked"
            fresh = officers(env, "token", "budi").stdout.strip()
            async with script.get(NOWHERE, headers=bearer(fresh)) as response:
                assert response.status == 404
            assert "revoked 1 token of budi" in officers(env, "token", "budi", "--revoke").output
            async with script.get(NOWHERE, headers=bearer(fresh)) as response:
                assert response.status == 401
        assert "no such officer" in officers(env, "disable", "nobody", code=1).output
        assert (
            "no such officer"
            in officers(env, "reset-password", "nobody", "--password-stdin", stdin="kata-sandi-xyz-12\n", code=1).output
        )
