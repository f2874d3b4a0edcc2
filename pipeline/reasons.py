"""What an error says, fit to keep in a row an officer reads, a health record and a log line.

A client library's message quotes the URL it asked (aiohttp's ``ClientResponseError`` does), and
some channels put the secret in it: Telegram's is ``https://api.telegram.org/bot<token>/...``.
So every URL is cut to its scheme and host, without user or password.
"""

from __future__ import annotations

import re

_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^@/\s'\"<>]*@)?([^/\s'\"<>?#]+)[^\s'\"<>]*", re.IGNORECASE)
MAX_REASON = 1000


def cut_urls(text: str) -> str:
    return _URL.sub(r"\1\2/…", text)


def reason(exc: BaseException) -> str:
    """``Type: message``, URLs cut, at most ``MAX_REASON`` characters."""
    message = cut_urls(str(exc))
    return (f"{type(exc).__name__}: {message}" if message else type(exc).__name__)[:MAX_REASON]
