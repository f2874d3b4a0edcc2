"""Telegram: a bot that students and citizens write to, by long polling or a webhook."""

from connectors.telegram.connector import TelegramConnector

CONNECTOR = TelegramConnector

__all__ = ["CONNECTOR", "TelegramConnector"]
