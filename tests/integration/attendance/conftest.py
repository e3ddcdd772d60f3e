"""Fixtures shared by the attendance integration tests: the school of the events API tests."""

from tests.integration.attendance.test_ingest_api import school

__all__ = ["school"]
