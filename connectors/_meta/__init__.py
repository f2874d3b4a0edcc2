"""What WhatsApp and Instagram share, written once: both are Meta's Graph API and Meta's webhooks.

Not a channel (the registry skips folders starting with ``_``). ``connector`` is the base class of
both (the Graph client's life, the webhook, the send loop), ``config`` the settings both sections
have, ``webhook`` the signed endpoint and the body checks, ``graph`` the Graph API client with
Meta's error codes mapped to the framework's send and media errors, ``window`` the
customer-service windows, ``times`` the timestamps in the forms Meta (and its samples) send.
"""
