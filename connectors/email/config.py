"""``[connectors.email]`` and its ``[connectors.email.accounts.<name>]``: the unit's mailboxes.

The main section is one account (``main``); each further account takes the same keys, and the
server settings it does not give (hosts, ports, security, limits, ``after_import``) from the main
section. With no ``imap_host`` an account only sends.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorConfig, _read_secret_files
from connectors.email.smtp import Security, SmtpAccount

MAIN = "main"
INHERITED = (
    "imap_host",
    "imap_port",
    "imap_security",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "max_attachment_bytes",
    "auto_replies_per_hour",
    "after_import",
    "idle_seconds",
)
"""What an extra account takes from the main section when it does not say."""
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
MAX_IDLE_SECONDS = 29 * 60


class AccountConfig(BaseModel):
    """One mailbox: where mail comes in (IMAP) and goes out (SMTP)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    """The account's own address: the From of what it sends; mail from it is never a report."""
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "tls"
    """``plain`` only to a loopback address (tests, a local proxy): a password in clear text."""
    username: str | None = None
    password: SecretStr | None = None
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Security = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    """Unset with ``smtp_username`` set: ``password`` (one login for both, the usual case)."""
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    """A part larger than this is not kept: the case gets a note instead, the rest of the mail is kept."""
    auto_replies_per_hour: int = Field(default=3, ge=0)
    """Automatic mails (receipts, notices) one address gets at most per hour from this process."""
    after_import: str = Field(default="keep", pattern=r"^(keep|flag|move:.+)$")
    """``keep`` the mail as it is, ``flag`` it (``\\Flagged``), or ``move:<folder>`` it."""
    idle_seconds: float = Field(default=25 * 60, gt=0, le=MAX_IDLE_SECONDS)
    """How long one IDLE lasts before it is issued again (servers drop it after 30 minutes)."""

    @field_validator("folders")
    @classmethod
    def _named(cls, folders: list[str]) -> list[str]:
        if any(not name.strip() for name in folders) or len(set(folders)) != len(folders):
            raise ValueError("folders must be distinct, non-empty names")
        return folders

    @model_validator(mode="after")
    def _inbound_complete(self) -> Self:
        if self.imap_host is None:
            return self
        if not self.username or self.password is None:
            raise ValueError("imap_host needs username and password (or password_file)")
        if self.imap_security == "plain" and not is_loopback(self.imap_host):
            raise ValueError("imap_security = plain is refused for a server not on loopback: use tls or starttls")
        if self.after_import.startswith("move:") and self.after_import.removeprefix("move:") in self.folders:
            raise ValueError("after_import must move mail to a folder not in folders")
        return self

    @property
    def inbound(self) -> bool:
        return self.imap_host is not None

    @property
    def move_to(self) -> str | None:
        return self.after_import.removeprefix("move:") if self.after_import.startswith("move:") else None

    def smtp(self) -> SmtpAccount:
        password = self.smtp_password
        if password is None and self.smtp_username:
            password = self.password
        return SmtpAccount(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            sender=self.address,
            username=self.smtp_username,
            password=password,
        )


class EmailConfig(ConnectorConfig, AccountConfig):
    """The main account, and the others under ``accounts``."""

    accounts: dict[str, AccountConfig] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _accounts_inherit(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), dict):
            return data
        shared = {key: data[key] for key in INHERITED if key in data}
        accounts = {
            name: _read_secret_files(AccountConfig, {**shared, **section}, f"connectors.email.accounts.{name}")
            if isinstance(section, dict)
            else section
            for name, section in data["accounts"].items()
        }
        return {**data, "accounts": accounts}

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if MAIN in self.accounts:
            raise ValueError(f"accounts.{MAIN} is the main section itself: give the account another name")
        addresses = [account.address.lower() for account in self.all_accounts().values()]
        if len(set(addresses)) != len(addresses):
            raise ValueError("every account needs an address of its own")
        return self

    def all_accounts(self) -> dict[str, AccountConfig]:
        return {MAIN: self, **self.accounts}

    def own_addresses(self) -> frozenset[str]:
        return frozenset(account.address.lower() for account in self.all_accounts().values())


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
