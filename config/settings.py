"""Typed settings: defaults < config/satupintu.toml < --config FILE < SATUPINTU_* environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = PACKAGE_DIR / "satupintu.toml"
DEFAULT_ROUTING_FILE = PACKAGE_DIR / "routing.toml"
DEFAULT_CALENDAR_FILE = PACKAGE_DIR / "calendar.toml"
DEFAULT_TEMPLATES_DIR = PACKAGE_DIR / "templates"
ENV_PREFIX = "SATUPINTU_"
CONFIG_FILE_ENV = "SATUPINTU_CONFIG"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


MIN_METRICS_TOKEN_CHARS = 16


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    """Largest request body accepted (attachments included); larger gets 413."""
    max_body_bytes_in_flight: int = Field(default=64 * 1024 * 1024, gt=0)
    """Request bodies all requests together may hold at once (each counts at least 16 KiB); a
    request that finds none left within a second gets 503 with Retry-After."""
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    """Where every process serves /healthz, /readyz and /metrics on ``host`` (keep it private);
    unset, a process without the http component serves nothing."""
    metrics_token: SecretStr | None = None
    """Also serve /metrics on the public port, to ``Authorization: Bearer <token>`` only; unset,
    /metrics is not on the public port. At least 16 characters: an empty token would open it."""

    @field_validator("metrics_token")
    @classmethod
    def _token_guards(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_METRICS_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN_CHARS} characters (unset, /metrics stays private)")
        return token

    @model_validator(mode="after")
    def _budget_holds_one_body(self) -> HttpSettings:
        if self.max_body_bytes_in_flight < self.max_body_bytes:
            raise ValueError("max_body_bytes_in_flight must be at least max_body_bytes")
        return self


class OfficeSettings(_Section):
    """The unit's office hours and calendar; deadlines fall at closing time."""

    opens: time = time(7, 30)
    closes: time = time(16, 0)
    count_cuti_bersama: bool = True
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _opens_before_closes(self) -> OfficeSettings:
        if self.opens >= self.closes:
            raise ValueError("opens must be earlier than closes")
        return self


class SlaProfile(_Section):
    """Deadlines of one kind or category; a key left out keeps the value it overrides."""

    verify_days: int | None = Field(default=None, ge=1)
    first_response_days: int | None = Field(default=None, ge=1)
    resolution_days: int | None = Field(default=None, ge=1)
    extension_days: int | None = Field(default=None, ge=1)
    final_days: int | None = Field(default=None, ge=1)
    final_working_days: bool | None = None


class SlaSettings(_Section):
    """Deadlines (``triage/deadlines.py``): working days of the office's calendar from the receipt
    day (verification, first follow-up) or from the day the file is complete (resolution, the
    legal ceiling); ``kinds`` and then ``categories`` (unit keys) override them."""

    verify_days: int = Field(default=2, ge=1)
    """Verification and forwarding to the unit."""
    first_response_days: int = Field(default=2, ge=1)
    resolution_days: int = Field(default=5, ge=1)
    extension_days: int = Field(default=5, ge=1)
    """What one extension ("kondisi tertentu", with a recorded reason) adds to the resolution."""
    final_days: int = Field(default=60, ge=1)
    """The legal ceiling from the day the file is complete (Perpres 76/2013): calendar days
    unless ``final_working_days``."""
    final_working_days: bool = False
    warn_before_hours: float = Field(default=24.0, ge=0)
    """A warning event this long before a deadline; an escalation once it has passed."""
    urgent_rules: list[str] = Field(default_factory=lambda: ["darurat.risiko_bunuh_diri"])
    """Routing rules whose cases are urgent (self-harm wording): verified and first answered the
    same day, whatever the office hours, within ``urgent_hours`` of arrival."""
    urgent_hours: float = Field(default=3.0, gt=0, le=24)
    close_after_days: int = Field(default=10, ge=1)
    """A resolved case closes itself this many working days after the follow-up report when
    the reporter does not answer (LAPOR!)."""
    kinds: dict[str, SlaProfile] = Field(
        default_factory=lambda: {
            "permintaan_informasi": SlaProfile(
                resolution_days=10, extension_days=7, final_days=17, final_working_days=True
            )
        }
    )
    categories: dict[str, SlaProfile] = Field(default_factory=dict)


class AccessSettings(_Section):
    """Who may see the reporter of a confidential or anonymous case (``triage/access.py``), by the
    console's roles: ``admin``, ``ult`` (the ULT's officers, every case), ``unit`` (a unit's own
    cases) and ``auditor`` (reads everything, changes nothing). No unit is named here: the rights
    of a unit's own officers are in ``config/satupintu.toml``."""

    identity_roles: list[Literal["admin", "ult", "unit", "auditor"]] = Field(default=["admin"])
    """Roles that see the reporter of every confidential and every anonymous case."""
    unit_identity_roles: dict[str, list[Literal["admin", "ult", "unit", "auditor"]]] = Field(default_factory=dict)
    """Per unit key, the roles that see the reporter of that unit's confidential cases (``unit``:
    that unit's own officers); an anonymous case stays hidden from them."""


class ConsoleSettings(_Section):
    """The officers' console (``console/``): logins, sessions and their limits."""

    session_hours: float = Field(default=10.0, gt=0, le=24 * 30)
    """A login lasts at most this long (a working day by default), however busy."""
    idle_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    """A session not used for this long ends sooner."""
    secure_cookies: bool = False
    """Always mark the cookies Secure (the console is served over HTTPS). Without it they are marked
    Secure when a request came over TLS, or said so by the proxy ``[public] forwarded_for`` trusts
    (``X-Forwarded-Proto: https``)."""
    login_name_burst: int = Field(default=5, ge=1)
    """Login attempts one name gets at once; then ``login_name_per_minute``, whatever the address."""
    login_name_per_minute: float = Field(default=1.0, gt=0)
    login_address_burst: int = Field(default=20, ge=1)
    """Login attempts one address gets at once (an office behind one NAT shares it)."""
    login_address_per_minute: float = Field(default=10.0, gt=0)
    language: Literal["id", "en"] = "id"
    """The language of the login page, and of a new officer unless ``officers add --language``."""


class QueueCounter(_Section):
    """A counter (*loket*) of the walk-in desk, whose numbers start with its prefix: ``A001``."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=64)
    """What the display, the ticket and the announcement call it: ``Loket Pengaduan``."""
    prefix: str = Field(pattern=r"^[A-Z]{1,3}$")


class QueueSettings(_Section):
    """The walk-in desk's queue numbers (``satupintu queue ...``, the counter and display pages)."""

    enabled: bool = False
    calls_before_skip: int = Field(default=3, ge=1, le=10)
    """Calls of a number with nobody coming before it is set aside as not present."""
    return_after: int = Field(default=3, ge=0, le=50)
    """A set-aside visitor who comes back is called again after this many waiting numbers."""
    counters: list[QueueCounter] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> QueueSettings:
        for field in ("key", "prefix"):
            values = [getattr(counter, field) for counter in self.counters]
            twice = sorted({value for value in values if values.count(value) > 1})
            if twice:
                raise ValueError(f"counters share a {field}: {', '.join(twice)}")
        if any(counter.key == "display" for counter in self.counters):
            raise ValueError("a counter cannot be called 'display' (the waiting room's page has that address)")
        if self.enabled and not self.counters:
            raise ValueError("enabled without a counter: add [[queue.counters]] with key, name and prefix")
        return self

    def counter(self, key: str) -> QueueCounter | None:
        return next((counter for counter in self.counters if counter.key == key), None)


class SurveySettings(_Section):
    """The satisfaction survey (SKM) sent once per resolved case."""

    enabled: bool = True
    public_url: str = "http://127.0.0.1:8080"
    """Where reporters reach the public pages: the full form's link is ``<public_url>/survei/<token>``."""


class TrackingSettings(_Section):
    prefix: str = Field(default="ULT", pattern=r"^[A-Z]{1,6}$")
    block_size: int = Field(default=50, ge=1, le=10_000)
    """Sequence numbers a triage worker takes from the counter at a time; the ones it has not
    used when it stops are never issued (gaps), so that workers never wait on each other."""


class TriageSettings(_Section):
    """Threading (``triage/threading.py``)."""

    thread_window_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    """One person's messages on one conversation that come this close together are one burst:
    a greeting or a photo sent just before the report joins its case, and a burst gets one
    greeting at most. One key for every chat channel."""
    duplicate_minutes: float = Field(default=10.0, ge=0, le=24 * 60)
    """A report of the same person repeated this soon (a double click, a resent chat) joins the
    first case without a second receipt."""


class ReplyRoute(_Section):
    """A channel that can carry a receipt to one kind of identity a report gave."""

    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    identity: Literal["phone", "email"]


class ReplySettings(_Section):
    """Where a receipt goes when the channel a report came by cannot send (a phone log, an import)."""

    fallback: list[ReplyRoute] = Field(
        default_factory=lambda: [
            ReplyRoute(channel="whatsapp", identity="phone"),
            ReplyRoute(channel="sms", identity="phone"),
            ReplyRoute(channel="email", identity="email"),
        ]
    )
    """Tried in order; the first whose channel is enabled and can send, and whose identity the
    report gave, carries the receipt. None applies: the tracking number is given in person."""


class PipelineSettings(_Section):
    batch_size: int = Field(default=200, ge=1, le=5000)
    """Most work items one stage handles in one transaction."""
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    stale_after_seconds: float = Field(default=30.0, gt=0)
    """Work waiting longer than this in a state is published again."""
    max_attempts: int = Field(default=5, ge=1)
    """Attempts before a message that keeps failing is parked as dead."""
    send_lease_seconds: float = Field(default=130.0, ge=1)
    """How long a deliver worker's claim on an outbox row holds: a send may take half of it, the
    rest is for writing the outcome (through a database outage). A row whose worker died is sent
    again once it lapses."""
    max_concurrent_sends: int = Field(default=20, ge=1)
    """Sends a deliver worker has in flight at once (each may hold an SMTP connection)."""
    queue_prefix: str = Field(default="satupintu", pattern=r"^[a-z0-9_.-]+$")
    max_media_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    """A fetched photo, voice note or video larger than this is marked failed, not stored."""


class PullSettings(_Section):
    """Pull loops (IMAP, Telegram getUpdates): one process per source at a time, under a lease."""

    lease_seconds: float = Field(default=30.0, gt=0)
    """A holder that stops renewing (killed, cut off) is replaced by a standby after this long."""
    max_backoff_seconds: float = Field(default=300.0, gt=0)
    """Longest wait before a failing loop tries again; refused credentials wait this long."""


class ImportSettings(_Section):
    """Limits of ``satupintu import``: a larger file is refused before it is read."""

    max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_rows: int = Field(default=100_000, gt=0)


class SmtpSettings(_Section):
    """Outgoing mail for receipts; absent until the email channel is configured."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False


class PublicSettings(_Section):
    """The public status page (``/status``, ``/api/v1/status``): lookups per client address."""

    status_lookups_per_minute: float = Field(default=10.0, gt=0)
    """Lookups an address gets back per minute, after its burst is spent; more get 429."""
    status_lookup_burst: int = Field(default=5, ge=1)
    forwarded_for: bool = False
    """Behind one reverse proxy: the client address is the last one of ``X-Forwarded-For``
    (the one that proxy added), not the proxy's own."""


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


def default_data_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """The data folder when none is set, whatever the current directory: ``var/`` of a source
    checkout (what ``make run`` uses), the per-user data folder of an installed package."""
    project = package_dir.parent
    if _is_checkout(project):
        return project / "var"
    return Path(platformdirs.user_data_dir("satupintu"))


def _is_checkout(project: Path) -> bool:
    """A checkout has our own pyproject.toml beside config/; an installed package's config/ sits
    in site-packages, where no pyproject.toml naming satupintu is."""
    try:
        with (project / "pyproject.toml").open("rb") as file:
            return bool(tomllib.load(file).get("project", {}).get("name") == "satupintu")
    except (OSError, tomllib.TOMLDecodeError):
        return False


class Settings(BaseSettings):
    """Everything an operator can set. Switching databases or brokers is only a URL."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        hide_input_in_errors=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    """Where the SQLite database, the blobs and a filesystem queue live (see ``default_data_dir``)."""
    database_url: str = ""
    """Empty means SQLite at <data_dir>/satupintu.db."""
    broker_url: str = "memory://"
    timezone: str = "Asia/Makassar"
    routing_file: Path = DEFAULT_ROUTING_FILE
    http: HttpSettings = Field(default_factory=HttpSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    calendar_file: Path = DEFAULT_CALENDAR_FILE
    """The holidays and cuti bersama by decree (``config/calendar.toml``); years it does not list
    come from the ``holidays`` package."""
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    """The reply texts (Jinja2), one folder per language: ``id/``, ``en/``."""
    sla: SlaSettings = Field(default_factory=SlaSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    survey: SurveySettings = Field(default_factory=SurveySettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    replies: ReplySettings = Field(default_factory=ReplySettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    pull: PullSettings = Field(default_factory=PullSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    smtp: SmtpSettings | None = None
    public: PublicSettings = Field(default_factory=PublicSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """One section per channel, validated by that connector's own config model."""

    @field_validator("data_dir", "routing_file", "calendar_file", "templates_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """A relative path from the environment or the command line is taken from the current
        directory (a config file's own were made absolute as it was read: ``_ConfigFile``)."""
        return value.expanduser().resolve()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_transport(cls, value: str) -> str:
        scheme = value.split("://", 1)[0]
        if scheme not in {"memory", "filesystem", "amqp", "pyamqp"}:
            raise ValueError("must start with memory://, filesystem:// or amqp://")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not re.match(r"^(sqlite|postgresql(\+psycopg)?)://", value):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'satupintu.db'}"
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings, turning any validation problem into one readable ConfigError.

    Later sources win: the packaged defaults file, then ``config_file`` (or the file named by
    SATUPINTU_CONFIG), then SATUPINTU_* environment variables, then ``overrides``.
    """
    files = [DEFAULT_CONFIG_FILE]
    named = config_file or (Path(os.environ[CONFIG_FILE_ENV]) if os.environ.get(CONFIG_FILE_ENV) else None)
    if named is not None:
        if not named.is_file():
            raise ConfigError(f"config file {named}: not found")
        files.append(named)

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            tomls = [_ConfigFile(settings_cls, f) for f in reversed(files)]
            return (init_settings, env_settings, *tomls)

    _refuse_unknown_variables(os.environ)
    try:
        return _Loaded(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except ValueError as exc:  # a value the environment source cannot parse (a list that is not JSON)
        raise ConfigError(f"invalid configuration: {exc}") from None


class _ConfigFile(InitSettingsSource):
    """One TOML config file, its relative paths taken from the file's own folder: the file means
    the same wherever the command is run from."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        try:
            with path.open("rb") as file:
                data = tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        for key in _PATH_SETTINGS & data.keys():
            if isinstance(data[key], str):
                data[key] = str(path.resolve().parent / Path(data[key]).expanduser())
        super().__init__(settings_cls, data)


_PATH_SETTINGS = frozenset(name for name, field in Settings.model_fields.items() if field.annotation is Path)


def _refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    """pydantic-settings ignores an environment variable that names no setting, so a typo such as
    SATUPINTU_HTTP_PORT would silently leave the port at its default: refuse it instead."""
    for name in environ:
        if not name.upper().startswith(ENV_PREFIX.upper()) or name.upper() == CONFIG_FILE_ENV.upper():
            continue
        key, _, nested = name[len(ENV_PREFIX) :].lower().partition("__")
        field = Settings.model_fields.get(key)
        if field is None:
            raise ConfigError(f"{name}: no such setting (a section's keys take two underscores: SATUPINTU_HTTP__PORT)")
        model = _section_model(field.annotation)
        if model is not None and nested and nested.partition("__")[0] not in model.model_fields:
            raise ConfigError(f"{name}: {key} has no setting {nested.partition('__')[0]!r}")


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The settings section class of a field (``HttpSettings``, or ``SmtpSettings | None``)."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(root)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{key}: {message}")
    return "invalid configuration: " + "; ".join(lines)


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z+]+://[^:/@]*:)(?P<password>[^@]+)@")


def mask_url(url: str) -> str:
    """Hide the password part of a URL."""
    return _URL_PASSWORD.sub(r"\g<scheme>****@", url)


def effective_config(settings: Settings) -> dict[str, Any]:
    """The settings as plain data with every secret masked, for `config show`."""
    data = settings.model_dump(mode="json")
    data["database_url"] = mask_url(settings.database_url)
    data["broker_url"] = mask_url(settings.broker_url)
    masked: dict[str, Any] = _mask_secrets(data)
    return masked


_SECRET_KEY = re.compile(r"(secret|token|password|(^|_)key($|_file$))", re.IGNORECASE)
"""Keys whose values `config show` masks: ``app_secret``, ``signing_key``, ``api_key_file``, …"""


def _mask_secrets(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask_secrets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v, key) for v in value]
    if value and _SECRET_KEY.search(key):
        return "**********"
    return value
