"""Fixtures of the in-memory seam (a pytest plugin, registered in tests/conftest.py).

``memory_store``: an empty in-memory table and queues for this test; ``fake_deps``: a ``Deps``
on it whose ``clock`` is a ``FakeClock`` at T0; ``memory_client``: the Chalice test client
running the app on those same ``fake_deps``.
"""
from __future__ import annotations

import pytest

from tests.support.fakes.deps import deps_on_fakes
from tests.support.fakes.store import in_memory_store


@pytest.fixture
def memory_store():
    with in_memory_store() as store:
        yield store


@pytest.fixture
def fake_deps(memory_store):
    return deps_on_fakes(memory_store)


@pytest.fixture
def memory_client(fake_deps, memory_store, monkeypatch):
    from chalice.test import Client

    from app import app
    from chalicelib import composition

    for variable, value in {"LOYALTY_ADMIN_TOKEN": "test-admin-token", **memory_store.environment()}.items():
        monkeypatch.setenv(variable, value)
    composition.install(fake_deps)
    try:
        with Client(app, stage_name="local") as test_client:
            yield test_client
    finally:
        composition.reset()
