"""`satupintu` commands as child processes of a test, configured the way an operator would:
through SATUPINTU_* variables, none of them inherited from the operator's shell."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from config.settings import Settings
from tests.support import REPO, eventually

STOP_SECONDS = 40.0


def _variable(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def environment(settings: Settings) -> dict[str, str]:
    """The variables that give a child process ``settings``: paths and URLs, the http, pipeline, pull
    and log sections, and every connector section (JSON logs, so that a failure's tail is readable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(
        SATUPINTU_DATA_DIR=str(settings.data_dir),
        SATUPINTU_DATABASE_URL=settings.database_url,
        SATUPINTU_BROKER_URL=settings.broker_url,
        SATUPINTU_LOG__LEVEL=settings.log.level,
        SATUPINTU_LOG__FORMAT="json",
    )
    for section in ("http", "pipeline", "pull"):
        for key, value in getattr(settings, section).model_dump(mode="json").items():
            if value is not None:
                env[f"SATUPINTU_{section.upper()}__{key.upper()}"] = _variable(value)
    for name, options in settings.connectors.items():
        for key, value in options.items():
            env[f"SATUPINTU_CONNECTORS__{name.upper()}__{key.upper()}"] = _variable(value)
    return env


@dataclass
class Workers:
    """The processes a test started, all writing to one log; ``stop`` ends the live ones."""

    settings: Settings
    log: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http.port}"

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a command to its end (``db upgrade``), its output captured."""
        return subprocess.run(
            [sys.executable, "-m", "workers", *args],
            cwd=REPO,
            env=environment(self.settings),
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running command (``run``, ``worker http``) in the background."""
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "workers", *args],
                cwd=REPO,
                env=environment(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200, failing as soon as a process has exited."""
        async with aiohttp.ClientSession() as http:

            async def answers() -> bool:
                assert all(p.poll() is None for p in self.processes), self.tail()
                try:
                    async with http.get(f"{self.base_url}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(answers, timeout=timeout)

    def kill(self, process: subprocess.Popen[bytes]) -> int:
        """SIGKILL, as a crash would; the process no longer counts as one of the live ones."""
        process.send_signal(signal.SIGKILL)
        self.processes.remove(process)
        return process.wait()

    def stop(self) -> list[int]:
        """SIGTERM every live process and their exit codes (0 each for a clean shutdown)."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=STOP_SECONDS) for process in self.processes]
        self.processes.clear()
        return codes


@contextmanager
def workers(settings: Settings, log: Path) -> Iterator[Workers]:
    """Processes that never outlive the test: whatever is still running at the end is killed."""
    started = Workers(settings, log)
    try:
        yield started
    finally:
        for process in started.processes:
            process.kill()
            process.wait()
