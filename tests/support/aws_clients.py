"""boto3's clients shared across the tests of a process, as a warm Lambda keeps its clients.

Every test builds its dependencies again (a cold start: ``composition.build`` makes a new SQS and
SES v2 client), and the helpers that read queues or verify senders made theirs: some two clients a
service test, each about 10 ms of CPU (the client class, its endpoint rules and handlers copied
from the session), 13 % of tests/services' CPU. In a warm Lambda container the clients live across
invocations; here a client of boto3's default session (the one session per AWS environment that
tests/support/botocore_data.py keeps) is made once per configuration: session, service, region,
endpoint, credentials, ``Config`` and every ``AWS_*`` variable. A client made from a session of
its own (``boto3.session.Session().client``) is the test's alone.

A client holds no test's data, and this module keeps it that way:

- **event handlers**: a test that adds one does it for its own length (``registered``, a context
  manager that takes it off again); after every test each shared client whose handlers were
  registered or unregistered is compared with the handlers it was made with, and a test that left
  one behind (or took one off) FAILS at its teardown, and the client is dropped, so no later test
  meets the handler (tests/unit/test_shared_clients.py);
- **retry quota** (botocore's ``standard`` mode, per client): a client whose quota a test spent
  (a fault test's throttled retries) is dropped at the test's end, as is one whose handlers changed;
- **connection pools** hold connections to the one endpoint of the key, never a request or answer.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest


@dataclass
class _Shared:
    client: object
    session: object  # kept, so the session's id in the key is never reused while the client lives
    handlers: tuple  # what it was made with
    quotas: tuple  # its retry quota (standard mode), full when made
    touched: bool = False  # a handler was registered or unregistered since the last check

    @classmethod
    def of(cls, client, session) -> "_Shared":
        handlers = handlers_of(client)
        shared = cls(client, session, handlers, _quotas(handlers))
        emitter = _emitter(client)
        for name in ("register", "register_first", "register_last", "unregister"):
            setattr(emitter, name, _noting(shared, getattr(emitter, name)))
        return shared


def _noting(shared: _Shared, change: Callable) -> Callable:
    # Comparing every shared client's handlers after every test cost 0.2 ms a client; this
    # marks the clients whose handlers a test changed, and only those are compared.
    def changed(*args, **kwargs):
        shared.touched = True
        return change(*args, **kwargs)

    return changed


_clients: dict[tuple, _Shared] = {}
_lock = threading.Lock()


def share_default_session_clients() -> None:
    """Make boto3's default sessions hand out one client per configuration (idempotent)."""
    import boto3.session

    from tests.support.botocore_data import is_shared_default_session, share_default_sessions

    share_default_sessions()  # the sessions whose clients are shared
    own_client = boto3.session.Session.client
    if getattr(own_client, "shares_clients", False):
        return

    def client(session, *args, **kwargs):
        if not is_shared_default_session(session):
            return own_client(session, *args, **kwargs)
        key = _key(session, args, kwargs)
        with _lock:
            shared = _clients.get(key)
            if shared is None:
                shared = _clients[key] = _Shared.of(own_client(session, *args, **kwargs), session)
            return shared.client

    client.shares_clients = True
    boto3.session.Session.client = client


def _key(session, args: tuple, kwargs: dict) -> tuple:
    from tests.support.botocore_data import environment

    config = kwargs.get("config")
    options = None if config is None else repr(sorted(config._user_provided_options.items()))
    return (id(session), repr(args), repr(sorted((name, value) for name, value in kwargs.items() if name != "config")),
            options, environment())


def _emitter(client):
    events = client.meta.events
    return getattr(events, "_emitter", events)  # botocore's EventAliaser around the emitter


def handlers_of(client) -> tuple:
    """Every handler on the client's events, by event name and place (first, middle, last)."""
    found = []

    def walk(node, path):
        if node["values"] is not None and any(node["values"]):  # a node whose handlers all went stays, empty
            found.append((path, *(tuple(part) for part in node["values"])))
        for chunk, child in node["children"].items():
            walk(child, f"{path}.{chunk}" if path else chunk)

    walk(_emitter(client)._handlers._root, "")
    return tuple(sorted(found, key=lambda entry: entry[0]))


def _quotas(handlers: tuple) -> tuple:
    every = (handler for _, *places in handlers for place in places for handler in place)
    return tuple({id(quota): quota for quota in (getattr(getattr(handler, "__self__", None), "_quota", None)
                                                 for handler in every) if quota is not None}.values())


def _quota_spent(shared: _Shared) -> bool:
    return any(quota.available_capacity < quota._max_capacity for quota in shared.quotas)


class LeftHandler(AssertionError):
    """A test left a shared client's event handlers other than it found them."""


def check_shared_clients() -> None:
    """After a test: drop every shared client a test changed; raise if one's handlers changed."""
    changed = []
    with _lock:
        for key, shared in list(_clients.items()):
            now = handlers_of(shared.client) if shared.touched else shared.handlers
            shared.touched = False
            if now != shared.handlers:
                changed.append(_difference(shared, now))
                del _clients[key]
            elif _quota_spent(shared):
                del _clients[key]
    if changed:
        raise LeftHandler("a test left event handlers changed on a shared boto3 client (add them with "
                          "tests.support.aws_clients.registered, for the test's length): " + "; ".join(changed))


def _difference(shared: _Shared, now: tuple) -> str:
    def flat(handlers):
        return {(event, handler) for event, *places in handlers for place in places for handler in place}

    before, after = flat(shared.handlers), flat(now)
    name = shared.client.meta.service_model.service_name
    return (f"{name}: added {sorted((event, _name(h)) for event, h in after - before)}, "
            f"removed {sorted((event, _name(h)) for event, h in before - after)}")


def _name(handler) -> str:
    return getattr(handler, "__qualname__", repr(handler))


@contextlib.contextmanager
def registered(client, event: str, handler: Callable, **options) -> Iterator[Callable]:
    """``handler`` on ``client``'s ``event`` for the length of the block (a test's fixture)."""
    client.meta.events.register(event, handler, **options)
    try:
        yield handler
    finally:
        client.meta.events.unregister(event, handler, unique_id=options.get("unique_id"))


@contextlib.contextmanager
def unregistered(client, event: str, handler: Callable) -> Iterator[None]:
    """``handler`` off ``client``'s ``event`` for the length of the block, registered again after
    (where it was: among the handlers registered as it was, botocore's middle ones)."""
    client.meta.events.unregister(event, handler)
    try:
        yield
    finally:
        client.meta.events.register(event, handler)


# -- the pytest plugin (tests/conftest.py registers it) -------------------------------------------
def pytest_configure(config):
    share_default_session_clients()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # the test's fixtures are torn down: its registrations are gone by now
    check_shared_clients()
    return result
