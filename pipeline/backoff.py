"""Waiting between tries, alike for every loop that retries (pull loops, media, the publisher)."""

from __future__ import annotations

import asyncio

MAX_DOUBLINGS = 64
"""Past this many doublings every cap is reached; it also keeps ``2 ** n`` a float can hold after
days of failures."""


def exponential(failures: int, first: float, cap: float) -> float:
    """``first`` after the first failure, doubled after each further one, at most ``cap``."""
    return float(min(cap, first * 2 ** min(MAX_DOUBLINGS, max(0, failures - 1))))


async def pause(seconds: float, *events: asyncio.Event) -> None:
    """Sleep ``seconds``, or less if one of ``events`` is set (a stop, a lost lease)."""
    if not events:
        await asyncio.sleep(seconds)
        return
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
