"""Use cases and the routes that call them, on the in-memory store (tests/support/fakes): no
emulator. Every test here is marked ``in_memory``, so the fixtures integration tests know
(``table``, ``deps``, ``client`` and the shops built on it) give an in-memory table, queues and
SES; a test that needs the emulator itself (its SES outbox, its memory, ``chalice local``)
belongs in tests/integration. The store's own promises are in tests/contract, on both stores."""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.in_memory)
