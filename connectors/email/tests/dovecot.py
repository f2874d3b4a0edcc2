"""A real Dovecot IMAP server for the tests and the benchmark, on a free loopback port.

Started in the foreground (``dovecot -F``) from ``connectors/email/fixtures/dovecot.conf`` with a
temporary base folder; plain login over loopback; users in a passwd-file that Dovecot re-reads when
it changes, so each test gets a mailbox of its own. Mail is put in by IMAP ``APPEND`` (what a mail
server's delivery looks like to a client) or, in bulk, written straight into the Maildir.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "dovecot.conf"
START_SECONDS = 15.0
START_TRIES = 130
"""Half-second tries: after a stop, the port can be held (TIME_WAIT) for up to a minute."""
USERS = 2000
PASSWORD = "rahasia"


def available() -> bool:
    return shutil.which("dovecot") is not None or Path("/usr/sbin/dovecot").exists()


def _binary(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One user's mailbox on the server."""

    server: Dovecot
    user: str
    password: str

    @property
    def maildir(self) -> Path:
        return self.server.work / "mail" / self.user / "Maildir"

    def section(self, address: str, **extra: Any) -> dict[str, Any]:
        """The ``[connectors.email]`` keys that read this mailbox (SMTP given by ``extra``)."""
        return {
            "address": address,
            "imap_host": "127.0.0.1",
            "imap_port": self.server.port,
            "imap_security": "plain",
            "username": self.user,
            "password": self.password,
            **extra,
        }

    @contextlib.contextmanager
    def client(self, folder: str = "INBOX") -> Iterator[IMAPClient]:
        client = IMAPClient("127.0.0.1", port=self.server.port, ssl=False, use_uid=True, timeout=30)
        client.login(self.user, self.password)
        try:
            if folder:
                client.select_folder(folder)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, mails: Iterable[bytes], folder: str = "INBOX") -> None:
        with self.client(folder="") as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for mail in mails:
                client.append(folder, mail)

    def write(self, mails: Iterable[bytes]) -> int:
        """Put mails straight into the Maildir's ``new/`` (as a delivery agent would): fast, for
        thousands; Dovecot gives them UIDs the next time a client looks."""
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        count = 0
        stamp = int(time.time())
        for count, mail in enumerate(mails, start=1):
            name = f"{stamp}.M{count:07d}P{os.getpid()}.satupintu,S={len(mail)}"
            tmp = self.maildir / "tmp" / name
            tmp.write_bytes(mail)
            tmp.rename(self.maildir / "new" / name)
        self.server.own(self.server.work / "mail" / self.user)
        return count

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client(folder) as client:
            return sorted(client.search(["ALL"]))

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client(folder="") as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def renumber(self, folder: str = "INBOX") -> None:
        """Give the folder a new UIDVALIDITY (a restored backup, a migrated server): every UID changes."""
        subprocess.run(
            [
                _binary("doveadm"),
                "-c",
                str(self.server.config),
                "mailbox",
                "update",
                "--uid-validity",
                str(self.uidvalidity(folder) + 1000),
                "-u",
                self.user,
                folder,
            ],
            check=True,
            capture_output=True,
        )


class Dovecot:
    """The server: start, add users, stop."""

    def __init__(self, work: Path, extra: str = "") -> None:
        self.work = work
        self.extra = extra
        """More settings, appended to the config (``imap_capability = ...`` for a server without IDLE)."""
        self.port = _free_port()
        self.config = work / "dovecot.conf"
        self.users = work / "users"
        self.process: subprocess.Popen[bytes] | None = None
        self._uid, self._gid, login = _accounts()
        self._login = login
        self._unused = iter(range(USERS))

    def start(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.work / sub).mkdir(parents=True, exist_ok=True)
        self.users.write_text("".join(f"u{n:04d}:{{PLAIN}}{PASSWORD}\n" for n in range(USERS)))
        text = TEMPLATE.read_text()
        for key, value in {
            "@WORK@": str(self.work),
            "@PORT@": str(self.port),
            "@MAILUSER@": str(self._uid),
            "@MAILGROUP@": str(self._gid),
            "@LOGINUSER@": self._login[0],
            "@INTERNALUSER@": self._login[1],
        }.items():
            text = text.replace(key, value)
        self.config.write_text(text + self.extra)
        shutil.rmtree(self.work / "run", ignore_errors=True)  # a stopped server's sockets, on a restart
        (self.work / "run").mkdir()
        self.own(self.work / "mail")
        for _ in range(START_TRIES):  # right after a stop the port may not be free yet
            self.process = subprocess.Popen(
                [_binary("dovecot"), "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, start_new_session=True
            )
            if self._wait():
                return
            time.sleep(0.5)
        raise RuntimeError(f"dovecot did not start: {self.log()[-2000:]}")

    def _wait(self) -> bool:
        """Whether the server answers; False when it exited at start."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return True
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.work / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self) -> Mailbox:
        """A mailbox no test has used. The users are all written before the server starts:
        Dovecot notices a changed passwd-file by its time stamp, which misses changes within a second."""
        user = f"u{next(self._unused):04d}"
        (self.work / "mail" / user / "Maildir").mkdir(parents=True)
        self.own(self.work / "mail" / user)
        return Mailbox(self, user, PASSWORD)

    def own(self, path: Path) -> None:
        """Mail folders belong to the mail user (Dovecot will not run mail processes as root)."""
        if os.geteuid() != 0:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, self._uid, self._gid)
            for name in [*dirs, *files]:
                os.chown(Path(root) / name, self._uid, self._gid, follow_symlinks=False)

    def stop(self) -> None:
        """Stop the server and every process it started (a session's imap process outlives the
        master for a while otherwise, and its clients would not notice the server is gone)."""
        if self.process is None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def running_dovecot(extra: str = "") -> Iterator[Dovecot]:
    """A started server in a folder of its own, removed afterwards. Not under pytest's temporary
    folders: those are private to us, and Dovecot's own users must be able to reach the files."""
    work = Path(tempfile.mkdtemp(prefix="satupintu-dovecot-"))
    work.chmod(0o755)
    server = Dovecot(work, extra)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _accounts() -> tuple[int, int, tuple[str, str]]:
    """The mail user (never root) and the login and internal users Dovecot runs its parts as."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return os.geteuid(), os.getegid(), (me, me)
    nobody = pwd.getpwnam("nobody")
    login = "dovenull" if _exists("dovenull") else "nobody"
    internal = "dovecot" if _exists("dovecot") else "nobody"
    return nobody.pw_uid, nobody.pw_gid, (login, internal)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True
