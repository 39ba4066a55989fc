"""The browser tests' fixtures (defined in tests/support/browser.py): one ``chalice local`` server
and one Chromium per worker session (``local_server``, ``chromium_browser``), each test on its own
table (``table``: tests/conftest.py's, served by that server) and its own shop (``shop``, ``demo_shop``)."""
from tests.support.browser import api_server, chromium_browser, demo_shop, local_server, shop, table  # noqa: F401
