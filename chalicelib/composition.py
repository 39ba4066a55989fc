"""Composition root: builds the service's dependencies once per cold start.

Only entry points import this module: the Blueprints (chalicelib/routes), devstack, bench and
tests. Everything a use case needs comes from the ``Deps`` built here and is passed to it as an
argument (chalicelib/services/deps.py); no service imports this module.

- configuration: ``Config.from_environ()``, the one reading of the environment;
- clock: the system clock (tests pass their own: ``build(config, clock=...)`` or ``use_clock``);
- AWS clients: made on first use (``import app`` stays cheap), all with botocore's ``standard``
  retry mode from the one ``boto_config`` below (PynamoDB's own client runs in that mode too);
- repositories: the DynamoDB ones, on the configured table;
- messenger, identities, send queue, link signer, secrets, per-container caches.
"""
from __future__ import annotations

import functools
import threading
from typing import Callable, Optional

from chalicelib.clock import Clock, system_clock
from chalicelib.config import Config
from chalicelib.services.deps import Caches, Deps

# Every boto3 client: standard retry mode (retry quotas, backoff with jitter, throttling codes).
RETRIES = {"mode": "standard", "max_attempts": 3}
# The SES sender tries twice at most: the queue retries with backoff, and a SendEmail retried after
# a read timeout is exactly how duplicates happen.
SES_SEND_RETRIES = {"mode": "standard", "max_attempts": 2}


def boto_config(**overrides):
    from botocore.config import Config as BotoConfig

    return BotoConfig(**{"retries": RETRIES, "connect_timeout": 5, "read_timeout": 15, "user_agent": user_agent(),
                         **overrides})


@functools.cache
def user_agent() -> str:
    """Every AWS client's User-Agent, made once per cold start. Without one given, botocore assembles
    its own from a dozen parts twice per request (0.04 ms each: 0.17 ms of a DynamoDB request's
    1.6 ms of client CPU, bench.send_path --profile); given, it uses this string as it is."""
    import platform

    import botocore

    return f"loyalty-service Botocore/{botocore.__version__} Python/{platform.python_version()}"


class Clients:
    """boto3 clients made on first use, one per service (and region), all from ``boto_config``."""

    def __init__(self, config: Config):
        self._config = config
        self._made: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, *, region: Optional[str] = None, **overrides):
        key = (service, region, tuple(sorted(overrides.items())))
        with self._lock:
            if key not in self._made:
                import boto3

                self._made[key] = boto3.client(service, region_name=region,
                                               config=boto_config(**_as_botocore(overrides)))
            return self._made[key]


def _as_botocore(overrides: dict) -> dict:
    return {name: dict(value) if isinstance(value, tuple) else value for name, value in overrides.items()}


def build(config: Optional[Config] = None, *, clock: Clock = system_clock, repos=None, messenger=None,
          identities=None) -> Deps:
    """The dependencies of one cold start. Tests and devstack pass what they replace."""
    from chalicelib.mail.identities import SesIdentities
    from chalicelib.mail.messenger import SesMessenger
    from chalicelib.mail.rate_limit import RateLimitedMessenger, take_slots_in_dynamodb
    from chalicelib.mail.send_queue import SendQueue
    from chalicelib.mail.tokens import LinkSigner
    from chalicelib.metrics import Metrics
    from chalicelib.secrets import Secrets, SecretUnavailable, not_configured_message
    from chalicelib.store.models import use_table
    from chalicelib.store.repositories import DynamoRepositories

    config = config or Config.from_environ()
    clients = Clients(config)
    if repos is None:
        use_table(config.table_name)
        from botocore.config import Config as BotoConfig

        from chalicelib.store.connection import set_client_defaults

        set_client_defaults(BotoConfig(user_agent=user_agent()))
        repos = DynamoRepositories()
    secrets = Secrets(config, clients)

    def link_keys() -> tuple[bytes, ...]:  # read through deps: a test may pass another configuration
        source = deps.config.link_signing_key
        found = deps.secrets.values(source)
        if not found:
            raise SecretUnavailable(not_configured_message(source.name))
        return tuple(key.encode() for key in found)

    ses = _lazy(lambda: clients("sesv2", region=config.ses_region,
                                retries=tuple(SES_SEND_RETRIES.items())))
    if messenger is None:
        messenger = RateLimitedMessenger(SesMessenger(ses), take_slots_in_dynamodb,
                                         rate=config.ses_max_send_rate)
    deps = Deps(
        config=config, clock=clock, repos=repos, messenger=messenger,
        identities=identities or SesIdentities(_lazy(lambda: clients("sesv2", region=config.ses_region))),
        send_queue=SendQueue(_lazy(lambda: clients("sqs")), config.send_queue_name),
        tokens=None, secrets=secrets, caches=Caches.for_config(config), metrics=Metrics(config.stage, sink=None if config.lambda_function_name else _local_metrics_log))
    from chalicelib.mail.sender_scaling import LambdaSenderScaling

    deps.sender_scaling = LambdaSenderScaling(_lazy(lambda: clients("lambda")), ses)
    deps.tokens = LinkSigner(link_keys, lambda: deps.clock())  # the clock the deps have now
    return deps


def _local_metrics_log(line: str) -> None:
    """Outside Lambda nothing ships stdout to CloudWatch: the metric records go to a debug log."""
    import logging

    logging.getLogger("loyalty.metrics").debug(line)


class _lazy:
    """A client made on first attribute access (import and cold start stay cheap)."""

    def __init__(self, make: Callable[[], object]):
        self._make = make
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


_built: list[Deps] = []
_lock = threading.Lock()


def dependencies() -> Deps:
    """This container's dependencies, built on first use."""
    with _lock:
        if not _built:
            deps = build()
            if deps.config.lambda_function_name:  # inside Lambda: JSON lines for CloudWatch (chalicelib/logs.py)
                from chalicelib.logs import use_json_lines

                use_json_lines()
            _built.append(deps)
        return _built[0]


def install(deps: Deps) -> Deps:
    """Run the entry points on ``deps`` (tests, devstack, bench)."""
    with _lock:
        _built[:] = [deps]
    return deps


def use_clock(clock: Clock) -> Deps:
    """The current dependencies with ``clock`` (tests move time this way, never by patching)."""
    return use(clock=clock)


def use(**replacements) -> Deps:
    """The current dependencies with some replaced (tests and devstack: a clock, a messenger,
    identities, a send queue); ``config`` may be given as a dict of the fields that change."""
    from dataclasses import replace

    deps = dependencies()
    changes = dict(replacements)
    if isinstance(changes.get("config"), dict):
        changes["config"] = replace(deps.config, **changes["config"])
    for name, value in changes.items():
        setattr(deps, name, value)
    return deps


def reset() -> None:
    """Forget the dependencies: the next use builds them again from the environment (a new cold start)."""
    with _lock:
        _built.clear()
