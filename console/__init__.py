"""The officers' console: web pages under ``/console/`` and the JSON API under ``/api/v1/``."""
