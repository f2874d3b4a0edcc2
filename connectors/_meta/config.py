"""The settings every Meta channel section has (``[connectors.whatsapp]``, ``[connectors.instagram]``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.base import ConnectorConfig

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_API_VERSION = "v21.0"


class MetaConfig(ConnectorConfig):
    app_secret: SecretStr
    """The Meta app's secret: the key of ``X-Hub-Signature-256`` (or ``app_secret_file``)."""
    verify_token: SecretStr
    """What the app's webhook settings say as ``hub.verify_token`` when it subscribes."""
    access_token: SecretStr
    """A System User token (temporary tokens expire within a day): media and sending."""
    graph_api_url: str = Field(default=DEFAULT_GRAPH_API_URL, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    graph_api_version: str = Field(default=DEFAULT_GRAPH_API_VERSION, pattern=r"^v\d+\.\d+$")
