"""Shared fixtures: one moto server per test process, a fresh table per test."""
from __future__ import annotations

import logging
import os

import pytest

from tests.support.chalice_local import free_port

# The fixtures every suite shares: the API on the emulator (client, shops) and the in-memory seam;
# boto3's clients kept across tests as a warm Lambda keeps them, each test checked to leave them as it found them.
pytest_plugins = ["tests.support.api_fixtures", "tests.support.fakes.fixtures", "tests.support.aws_clients"]

# Fake credentials always: nothing in the tests may reach a real AWS account.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
    # The tests run as the local stack: the development link-signing key applies (chalicelib.secrets).
    "LOYALTY_LOCAL_STACK": "1",
})


logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's request log drowns test output


# make test-fast's loop (--hypothesis-profile=fast): every property test runs, on a fifth of its
# examples (tests/support/examples.py); make test and CI keep the default profile, the full search.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

# No deadline in either profile: a deadline is a timing assertion, and on a shared 2-core machine
# an example's first run (cold caches, a collection pause, the other worker) took 353 ms against
# Hypothesis's 200 and failed CI with a correct result. Speed is measured by bench/, not here.
_hypothesis_settings.register_profile("default", deadline=None)
_hypothesis_settings.register_profile("fast", max_examples=20, deadline=None)
_hypothesis_settings.load_profile("default")


def pytest_configure(config):
    from tests.support.botocore_data import share_botocore_data, share_default_sessions
    from tests.support.dynamodb_clients import share_pynamodb_clients
    from tests.support.fakes import ses_identities

    ses_identities.install()  # SES identities of in-memory tests answered from moto's model, no stub round trip
    share_pynamodb_clients()  # one botocore client per configuration, not ten new ones a test
    share_botocore_data()  # botocore's model files parsed once, not for every test's new session
    share_default_sessions()  # moto's reset of boto3's default session gets this environment's session
    config.addinivalue_line("markers", "slow: a long property-based run; `make test` runs it, `make test-fast` leaves it out")
    config.addinivalue_line("markers", "in_memory: the test's table, queues and SES are in memory (tests/support/fakes), "
                                       "not on the emulator")


@pytest.fixture(scope="session")
def _emulator():
    from devstack.emulator import SerializedMotoServer

    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
    server.stop()


@pytest.fixture
def moto_endpoint(request):
    """The emulator (one moto server per test process)."""
    if request.node.get_closest_marker("in_memory"):
        pytest.fail("a test on the in-memory store asked for the emulator: it belongs on the emulator")
    return request.getfixturevalue("_emulator")


@pytest.fixture
def table(request, monkeypatch):
    """A new empty table (and queues) for this test, with the service pointed at it: on the
    emulator, or in memory for tests marked ``in_memory`` (tests/support/fakes; all of tests/services)."""
    from chalicelib import composition

    if request.node.get_closest_marker("in_memory"):
        store = request.getfixturevalue("memory_store")
        for variable, value in {**store.environment(), "LOYALTY_ADMIN_TOKEN": "test-admin-token"}.items():
            monkeypatch.setenv(variable, value)
        composition.reset()
        yield store.table_name
        composition.reset()
        return

    from tests.support.emulator_table import emulator_table

    with emulator_table(request.getfixturevalue("moto_endpoint"), monkeypatch) as name:
        yield name


@pytest.fixture
def deps(table):
    """The dependencies the app runs on in this test (built from the test's environment, like a
    cold start): what a test passes to a service it calls directly."""
    from chalicelib import composition

    return composition.dependencies()


def pytest_terminal_summary(terminalreporter):
    """CI's output says how many reliability tests (faults, races, fuzzing) ran and passed."""
    from collections import Counter

    outcomes: Counter = Counter()
    for reports in terminalreporter.stats.values():
        for report in reports:
            # schemathesis gives all of its per-operation items one node id: count reports, not ids.
            if not getattr(report, "nodeid", "").startswith("tests/reliability/") or not hasattr(report, "when"):
                continue
            if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
                outcomes[report.outcome] += 1
            elif report.when == "teardown" and report.outcome == "failed":
                outcomes["failed"] += 1
    if outcomes:
        terminalreporter.write_line(f"reliability tests (tests/reliability/): {outcomes['passed']} of "
                                    f"{sum(outcomes.values())} passed")
