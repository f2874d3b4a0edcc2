"""The project's service fixtures for every connector's tests: an operator's SATUPINTU_*
variables kept out, a PostgreSQL database of the test's own, RabbitMQ, and both backends
(embedded; RabbitMQ + PostgreSQL) for the end-to-end tests."""

from tests.conftest import (
    _no_operator_environment,
    backend_settings,
    either_database,
    migrated_engine,
    postgres_admin,
    postgres_url,
    rabbitmq_url,
)

__all__ = [
    "_no_operator_environment",
    "backend_settings",
    "either_database",
    "migrated_engine",
    "postgres_admin",
    "postgres_url",
    "rabbitmq_url",
]
