"""``satupintu telegram webhook set URL | delete | info``: done once by the admin, not at every start.

``set`` registers URL (which must reach ``POST /webhooks/telegram``) with the configured
``webhook_secret`` and the update types we read; Telegram then stops answering getUpdates, so set
``mode = "webhook"`` with it. ``delete`` goes back to polling; updates waiting are kept.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import click

from cli.common import EXIT_CONFIG, FORMAT, emit, fail_cleanly, settings
from connectors.base import ConnectorAuthFailed, ConnectorNotReady
from connectors.telegram.api import BotApi
from connectors.telegram.connector import TelegramConfig, TelegramConnector
from connectors.telegram.intake import ALLOWED_UPDATES, CHANNEL

EXIT_REFUSED = 1


@click.group("telegram")
def telegram_group() -> None:
    """The Telegram bot's webhook (polling needs none)."""


@telegram_group.group("webhook")
def webhook() -> None:
    """Register, remove or inspect the bot's webhook at Telegram."""


@webhook.command("set")
@click.argument("url")
@click.pass_context
@fail_cleanly
def set_webhook(ctx: click.Context, url: str) -> None:
    """Have Telegram post updates to URL (https, ending in /webhooks/telegram), with the secret."""
    config = _config(ctx)
    if config.webhook_secret is None:
        _refuse('connectors.telegram.webhook_secret is not set: Telegram must send one (and mode = "webhook")')
    secret = config.webhook_secret.get_secret_value()
    _call(config, lambda api: api.set_webhook(url, secret, ALLOWED_UPDATES))
    click.echo(f"webhook set: {url}")
    if config.mode != "webhook":
        click.echo('connectors.telegram.mode is "polling": set it to "webhook", or polling now fails', err=True)


@webhook.command("delete")
@click.pass_context
@fail_cleanly
def delete_webhook(ctx: click.Context) -> None:
    """Stop the webhook: Telegram keeps the updates for getUpdates (mode = "polling")."""
    config = _config(ctx)
    _call(config, lambda api: api.delete_webhook())
    click.echo("webhook deleted: updates wait for polling")


@webhook.command("info")
@FORMAT
@click.pass_context
@fail_cleanly
def webhook_info(ctx: click.Context, output: str) -> None:
    """What Telegram says of the webhook: its URL, updates waiting, the last delivery error."""
    info = _call(_config(ctx), lambda api: api.webhook_info())
    emit(info, output == "json", _table)


def _table(info: dict[str, Any]) -> None:
    for key, value in info.items():
        click.echo(f"{key:<22} {value}")


def _config(ctx: click.Context) -> TelegramConfig:
    section = settings(ctx).connectors.get(CHANNEL)
    if section is None:
        _refuse("[connectors.telegram] is not configured")
    config = TelegramConnector.from_section(dict(section)).config
    assert isinstance(config, TelegramConfig)
    return config


def _call(config: TelegramConfig, call: Callable[[BotApi], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        api = BotApi(config.bot_token.get_secret_value(), config.api_base_url)
        await api.start()
        try:
            return await call(api)
        finally:
            await api.stop()

    try:
        return asyncio.run(run())
    except (ConnectorNotReady, ConnectorAuthFailed) as exc:
        click.echo(f"satupintu: {exc}", err=True)
        sys.exit(EXIT_REFUSED)


def _refuse(message: str) -> NoReturn:
    click.echo(f"satupintu: {message}", err=True)
    sys.exit(EXIT_CONFIG)


COMMANDS = [telegram_group]
