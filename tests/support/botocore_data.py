"""botocore's data files parsed once per process, and boto3's default session kept per environment.

A warm Lambda keeps its one boto3 default session, whose botocore loader keeps what it parsed
(service models, endpoint rules, partitions, retry rules: ``instance_cache`` on ``Loader``), so
production parses each file once per container. The tests start and stop moto's mock for every
in-memory test, and moto's mock resets ``boto3.DEFAULT_SESSION`` (moto/core/models.py), so
every test's clients came from a new session whose loader parsed the SQS and SESv2 models and
the endpoint rules again: about 40 ms of JSON decoding a client, and 8 ms more to set up a session.

- ``share_botocore_data``: every ``Loader`` with the same search paths, extras and file loader
  shares one cache, as the clients of one session do (the parsed content of the same files).
- ``share_default_sessions``: when boto3 makes its default session (``setup_default_session()``
  with no arguments, which is what moto's reset leads to), it gets the session already made for
  the same AWS environment: every ``AWS_*`` variable (credentials, region, endpoint, config files;
  moto's mock sets its own credentials) and the same built-in botocore handlers (moto adds its
  stubber when imported). A session holds no test's data; its clients are kept per configuration
  by tests/support/aws_clients.py, which also checks that no test leaves them changed.
"""
from __future__ import annotations

import os
import threading

_caches: dict[tuple, dict] = {}
_sessions: dict[tuple, object] = {}
_lock = threading.Lock()


def share_botocore_data() -> None:
    """Make every botocore ``Loader`` of this process share the cache of its search paths."""
    from botocore.loaders import Loader

    own_init = Loader.__init__
    if getattr(own_init, "shares_data", False):
        return

    def init(loader, *args, **kwargs):
        own_init(loader, *args, **kwargs)
        key = (tuple(loader.search_paths), tuple(loader.extras_types), type(loader.file_loader))
        loader._cache = _caches.setdefault(key, {})

    init.shares_data = True
    Loader.__init__ = init


def environment() -> tuple:
    """What a default session (and a client of it) is made from: the ``AWS_*`` variables and the built-in handlers."""
    from botocore.handlers import BUILTIN_HANDLERS

    return (tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("AWS_"))),
            tuple(id(handler) for _, handler, *_ in BUILTIN_HANDLERS))


def share_default_sessions() -> None:
    """Make boto3's default session, when (re)made without arguments, the one of this environment."""
    import boto3

    own_setup = boto3.setup_default_session
    if getattr(own_setup, "shares_sessions", False):
        return

    def setup_default_session(**kwargs):
        if kwargs:
            return own_setup(**kwargs)
        key = environment()
        with _lock:
            session = _sessions.get(key)
            if session is None:
                session = _sessions[key] = boto3.session.Session()
        boto3.DEFAULT_SESSION = session

    setup_default_session.shares_sessions = True
    boto3.setup_default_session = setup_default_session


def is_shared_default_session(session) -> bool:
    """Whether ``session`` is one of the default sessions kept here (tests/support/aws_clients.py shares their clients)."""
    with _lock:
        return any(kept is session for kept in _sessions.values())
