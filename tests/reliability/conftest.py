"""Reliability tests: the service attacked with bad input, concurrency, SES faults and crashes.

They use the shared API fixtures (a moto server per test process, a fresh table per test,
the Chalice test client: tests/support/api_fixtures.py); each is sized to run in CI.
"""
from __future__ import annotations

import pytest

from tests.support.emulator import table_fingerprint


@pytest.fixture
def fingerprint():
    return table_fingerprint
