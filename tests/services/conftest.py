"""Use cases and the routes that call them, on the in-memory store (tests/support/fakes): no
emulator. The fixtures integration tests know (``table``, ``deps``, ``client`` and the shops built
on it) are the same here, pointed at an in-memory table, queues and SES; a test that needs the
emulator itself (its SES outbox, its memory, ``chalice local``) belongs in tests/integration.
The store's own promises are in tests/contract, on both stores."""
from __future__ import annotations

import pytest


@pytest.fixture
def table(memory_store, monkeypatch):
    """The in-memory table, with the app's cold start pointed at it (as tests/conftest.py's
    ``table`` does with the emulator's)."""
    from chalicelib import composition

    for variable, value in {**memory_store.environment(), "LOYALTY_ADMIN_TOKEN": "test-admin-token"}.items():
        monkeypatch.setenv(variable, value)
    composition.reset()
    yield memory_store.table_name
    composition.reset()


@pytest.fixture
def deps(table):
    from chalicelib import composition

    return composition.dependencies()


@pytest.fixture
def moto_endpoint():
    pytest.fail("a test on the in-memory store asked for the emulator: it belongs in tests/integration")
