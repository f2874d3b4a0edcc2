"""The project's shared test fixtures: an operator's SATUPINTU_* variables stay out of these tests."""

from tests.conftest import _no_operator_environment

__all__ = ["_no_operator_environment"]
