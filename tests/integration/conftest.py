"""Integration tests: use cases and routes on the emulator. The shared fixtures (``table``,
``deps``, ``client``, the shops) come from tests/conftest.py and tests/support/api_fixtures.py."""
