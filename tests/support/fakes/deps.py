"""A ``Deps`` on the in-memory store and a clock the test moves: what a service test passes in."""
from __future__ import annotations

from typing import Optional

from tests.support.clock import FakeClock
from tests.support.fakes.store import InMemoryStore

# What the test process's environment says for every test (tests/conftest.py), minus the
# emulator: the configuration is built from this mapping alone, never from os.environ.
TEST_ENVIRONMENT = {"LOYALTY_ADMIN_TOKEN": "test-admin-token", "LOYALTY_LOCAL_STACK": "1",
                    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1"}


def deps_on_fakes(store: InMemoryStore, *, clock: Optional[FakeClock] = None, messenger=None, identities=None,
                  environ: Optional[dict] = None):
    """The composition root's ``build`` on ``store`` (its SES and SQS in memory too), a
    ``FakeClock`` (T0 unless given) and the configuration ``environ`` adds to the tests' own.
    ``messenger`` and ``identities`` replace the SES adapters (tests/support/mail.py has a
    ``RecordingMessenger``)."""
    from chalicelib import composition
    from chalicelib.config import Config

    config = Config.from_environ({**TEST_ENVIRONMENT, **store.environment(), **(environ or {})})
    return composition.build(config, clock=clock or FakeClock(), messenger=messenger, identities=identities)
