"""The project's service fixtures (a PostgreSQL database of the test's own), for the web form's tests."""

from tests.conftest import _no_operator_environment, postgres_admin, postgres_url

__all__ = ["_no_operator_environment", "postgres_admin", "postgres_url"]
