"""Meta's customer-service windows: free-form replies only within 24 hours of the person's last
message (WhatsApp, Instagram); Instagram's ``HUMAN_AGENT`` tag stretches that to 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
SAFETY_MARGIN = timedelta(minutes=5)
"""A reply sent this close to the end of the window could arrive at Meta after it: treat it as closed."""


def within(last_inbound_at: datetime | None, window: timedelta, now: datetime) -> bool:
    """Whether a message sent ``now`` is still inside ``window`` after the person's last message;
    False when they never wrote (``None``)."""
    if last_inbound_at is None:
        return False
    return now - last_inbound_at < window - SAFETY_MARGIN
