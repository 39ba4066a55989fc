"""The same contract, two stores: each test runs against the DynamoDB repositories on the emulator
(``emulator``) and on the in-memory store service tests use (``in_memory``, tests/support/fakes)."""
from __future__ import annotations

import pytest


@pytest.fixture(params=["emulator", "in_memory"])
def repos(request):
    """The ``Repositories`` of a fresh, empty store of either kind."""
    if request.param == "emulator":
        return request.getfixturevalue("deps").repos
    return request.getfixturevalue("fake_deps").repos
