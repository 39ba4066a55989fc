"""The browser tests' fixtures (defined in tests/support/browser.py)."""
from tests.support.browser import api_server, demo_shop  # noqa: F401
