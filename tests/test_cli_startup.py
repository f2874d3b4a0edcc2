"""Start-up problems end with one line naming the key and exit code 2, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import cli.serve
from tests.support import REPO, free_port
from workers import cli as satupintu

PASSWORD = "sandi-rahasia"


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(satupintu, args, env=env, obj={})


def assert_one_line_exit_2(result: Result, *expected: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # not an uncaught error
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    for text in expected:
        assert text in line


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port another process is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "command",
    [["cases", "list"], ["cases", "show", "1"], ["dlq", "list"], ["dlq", "replay", "outbox:1"], ["status"]],
    ids=" ".join,
)
def test_a_database_never_migrated_names_the_fix(command: list[str], tmp_path: Path) -> None:
    result = invoke(command, {"SATUPINTU_DATA_DIR": str(tmp_path)})
    assert_one_line_exit_2(result, "database_url", "satupintu db upgrade")


@pytest.mark.parametrize("command", [["cases", "list"], ["status"], ["run"]], ids=" ".join)
def test_an_unreachable_database_says_so_without_the_password(command: list[str], tmp_path: Path) -> None:
    url = f"postgresql://ult:{PASSWORD}@127.0.0.1:{free_port()}/satupintu"
    result = invoke(command, {"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_DATABASE_URL": url})
    assert_one_line_exit_2(result, "database_url: cannot connect", "ult:****@127.0.0.1", "is the server up?")
    assert PASSWORD not in result.output


def test_run_on_a_port_in_use_names_it(tmp_path: Path, occupied_port: int) -> None:
    env = {"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_HTTP__PORT": str(occupied_port)}
    result = invoke(["run"], env)
    assert_one_line_exit_2(result, f"http.port: 127.0.0.1:{occupied_port} is already in use")


def test_a_port_taken_after_the_check_is_still_one_message(
    tmp_path: Path, occupied_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may take the port between the check and the server's own bind."""
    monkeypatch.setattr(cli.serve, "check_port", lambda http: None)
    env = {
        "SATUPINTU_DATA_DIR": str(tmp_path),
        "SATUPINTU_HTTP__PORT": str(occupied_port),
        "SATUPINTU_LOG__LEVEL": "ERROR",
    }
    result = invoke(["run"], env)
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"http.port: 127.0.0.1:{occupied_port} is already in use" in result.output.strip().splitlines()[-1]


def test_a_port_in_use_stops_the_real_process_with_one_line(tmp_path: Path, occupied_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers", "run"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_HTTP__PORT": str(occupied_port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"satupintu: http.port: 127.0.0.1:{occupied_port} is already in use"]


@pytest.mark.parametrize("command", [["cases", "list"], ["status"]], ids=" ".join)
def test_a_database_never_migrated_stops_the_real_process_with_one_line(command: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers", *command],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "SATUPINTU_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("satupintu: database_url: the schema of sqlite:") and "satupintu db upgrade" in line
