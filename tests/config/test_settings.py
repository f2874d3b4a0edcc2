"""Settings: defaults, the config file, the environment, and one clear line for a bad value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.settings import ConfigError, default_data_dir, load_settings
from tests.support import REPO
from workers import cli


def test_defaults_are_the_embedded_pipeline() -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{REPO / 'var' / 'satupintu.db'}"
    assert settings.broker_url == "memory://"
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.timezone == "Asia/Makassar"
    assert settings.connectors["webform"]["enabled"] is True


def test_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "site.toml"
    config.write_text('timezone = "Asia/Jakarta"\n[http]\nport = 9000\n[office]\ncloses = "15:30:00"\n')
    monkeypatch.setenv("SATUPINTU_HTTP__PORT", "9100")
    settings = load_settings(config)
    assert settings.timezone == "Asia/Jakarta"
    assert settings.http.port == 9100  # the environment wins over the file
    assert settings.http.host == "127.0.0.1"  # untouched keys keep the defaults
    assert settings.office.closes.isoformat() == "15:30:00"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SATUPINTU_HTTP__PORT", "delapan", "http.port"),
        ("SATUPINTU_HTTP__PORT", "70000", "http.port"),
        ("SATUPINTU_TIMEZONE", "Asia/Balikpapan", "unknown time zone"),
        ("SATUPINTU_BROKER_URL", "redis://localhost", "broker_url"),
        ("SATUPINTU_DATABASE_URL", "mysql://x", "database_url"),
    ],
)
def test_bad_values_name_the_key(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_unknown_keys_in_a_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text("[htpp]\nport = 1\n")
    with pytest.raises(ConfigError, match="htpp: unknown setting"):
        load_settings(config)


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("SATUPINTU_HTTP_PORT", "SATUPINTU_HTTP_PORT: no such setting"),
        ("SATUPINTU_HTTP__PROT", "SATUPINTU_HTTP__PROT: http has no setting 'prot'"),
    ],
)
def test_a_mistyped_variable_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    monkeypatch.setenv(variable, "9100")
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_a_bad_value_stops_start_up_with_exit_code_2_and_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers", "run"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "SATUPINTU_HTTP__PORT": "delapan"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "http.port" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = {
        "SATUPINTU_DATA_DIR": str(tmp_path),
        "SATUPINTU_BROKER_URL": "amqp://ult:rahasia-sekali@127.0.0.1:5672//",
        "SATUPINTU_SMTP__HOST": "127.0.0.1",
        "SATUPINTU_SMTP__SENDER": "ult@itk.example.ac.id",
        "SATUPINTU_SMTP__PASSWORD": "sandi-smtp",
        "SATUPINTU_CONNECTORS__WEBFORM__STATUS_SECRET": "tanda-tangan",
    }
    result = CliRunner().invoke(cli, ["config", "show"], env=env, obj={})
    assert result.exit_code == 0, result.output
    for secret in ("rahasia-sekali", "sandi-smtp", "tanda-tangan"):
        assert secret not in result.output
    assert "amqp://ult:****@127.0.0.1" in result.output


def test_a_checkout_keeps_its_data_in_its_own_var_wherever_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == REPO / "var"  # what `make run` uses
    assert settings.blob_dir == REPO / "var" / "blobs"


@pytest.mark.parametrize("pyproject", [None, '[project]\nname = "another-project"\n', "not toml ["])
def test_an_installed_package_keeps_its_data_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pyproject: str | None
) -> None:
    """config/ of an installed package sits in site-packages, beside no pyproject.toml of ours."""
    site_packages = tmp_path / "site-packages"
    (site_packages / "config").mkdir(parents=True)
    if pyproject is not None:
        (site_packages / "pyproject.toml").write_text(pyproject)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home-data"))
    assert default_data_dir(site_packages / "config") == tmp_path / "home-data" / "satupintu"


def test_relative_paths_in_a_config_file_are_taken_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path.resolve() / "etc"
    site.mkdir()
    (site / "site.toml").write_text('data_dir = "data"\nrouting_file = "../routing/units.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(Path("../etc/site.toml"))
    assert settings.data_dir == site / "data"
    assert settings.routing_file == site.parent / "routing" / "units.toml"
    assert settings.database_url == f"sqlite:///{site / 'data' / 'satupintu.db'}"


def test_a_relative_path_from_the_environment_is_taken_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SATUPINTU_DATA_DIR", "var2")
    assert load_settings().data_dir == tmp_path.resolve() / "var2"


def test_config_show_prints_the_absolute_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "show"], env={"SATUPINTU_DATA_DIR": "var"}, obj={})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["data_dir"] == str(tmp_path.resolve() / "var")
    assert shown["database_url"] == f"sqlite:///{tmp_path.resolve() / 'var' / 'satupintu.db'}"


def test_a_malformed_config_file_names_it(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[http\nport = 1\n")
    with pytest.raises(ConfigError, match=f"config file {config}: "):
        load_settings(config)


@pytest.mark.parametrize("token", ["", "short-token"])
def test_a_metrics_token_too_short_to_guard_metrics_is_refused(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("SATUPINTU_HTTP__METRICS_TOKEN", token)
    with pytest.raises(ConfigError, match=r"http\.metrics_token.*at least 16 characters"):
        load_settings()
