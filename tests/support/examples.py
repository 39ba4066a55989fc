"""How many examples a property test draws: its own count under Hypothesis's default profile (make
test, CI), a fifth of it under the ``fast`` profile that ``make test-fast`` loads
(``--hypothesis-profile=fast``, registered in tests/conftest.py), the loop while changing rules:
every property still runs there, on fewer cases; the full search runs in make test and CI."""
from __future__ import annotations

from hypothesis import settings

FULL = 100  # Hypothesis's own default max_examples, the default profile's


def examples(count: int) -> int:
    """``count`` scaled by the loaded profile (``settings.default`` is the profile's)."""
    return max(10, count * settings.default.max_examples // FULL)
