"""Log lines as JSON (Powertools' Logger) carrying what ties a line to its cause: the shop,
template, campaign, the e-mail's message key and a correlation id (the API request's id or the
SQS message's id).

Code logs through the standard ``logging.getLogger("loyalty....")`` loggers and marks the work
it is doing with ``log_context(shop=..., template=...)``; every line logged inside gets those keys,
nested contexts adding to the outer ones (a context variable: threads and batches keep their own).
Inside Lambda the composition root calls ``use_json_lines()`` once per cold start: the "loyalty"
loggers then write one JSON object per line to stdout (CloudWatch Logs Insights reads the keys).
Elsewhere (tests, the local stack) logging stays as the process set it up.
"""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from typing import IO, Iterator, Optional

SERVICE = "loyalty"
KEYS = ("shop", "template", "campaign", "message_key", "correlation_id")

_keys: ContextVar[dict] = ContextVar("loyalty_log_keys", default={})


@contextlib.contextmanager
def log_context(**keys: Optional[str]) -> Iterator[None]:
    """Every line logged inside carries ``keys`` (those given as None are left out)."""
    unknown = set(keys) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown log keys: {sorted(unknown)}")
    token = _keys.set({**_keys.get(), **{name: value for name, value in keys.items() if value is not None}})
    try:
        yield
    finally:
        _keys.reset(token)


def current_keys() -> dict:
    return dict(_keys.get())


class _ContextKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _keys.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def use_json_lines(stream: Optional[IO[str]] = None, level: str = "INFO"):
    """The "loyalty" loggers write JSON lines (Powertools' Logger and formatter) to ``stream``
    (stdout). Once per process: a second call returns the same logger."""
    from aws_lambda_powertools import Logger

    logger = Logger(service=SERVICE, level=level, stream=stream)
    logging.getLogger(SERVICE).propagate = False  # Lambda's root handler would print each line again, as text
    handler = logger.registered_handler
    if not any(isinstance(existing, _ContextKeys) for existing in handler.filters):
        handler.addFilter(_ContextKeys())
    return logger
