"""The "loyalty" loggers writing JSON lines into a buffer, as inside Lambda, for one test."""
from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import Iterator


@contextlib.contextmanager
def json_log_lines() -> Iterator[list[dict]]:
    """Yields a list that holds, once the block ends, every JSON line the block logged."""
    from chalicelib.logs import SERVICE, use_json_lines

    logger = logging.getLogger(SERVICE)
    saved = (list(logger.handlers), logger.propagate, logger.level)
    buffer = io.StringIO()
    lines: list[dict] = []
    # A cold start earlier in this process (a test run as inside Lambda) may have configured the
    # logger for stdout; Powertools would keep that one, so this block starts afresh.
    _forget_powertools(logger)
    logger.handlers[:] = []
    use_json_lines(stream=buffer)
    try:
        yield lines
    finally:
        logger.handlers[:] = saved[0]
        logger.propagate, logger.level = saved[1], saved[2]
        _forget_powertools(logger)  # the next configuration must start afresh too
        lines += [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def _forget_powertools(logger: logging.Logger) -> None:
    """Powertools marks the logger it configured and keeps its handler on the next configuration."""
    for name in [name for name in vars(logger) if name == "init" or name.startswith(("powertools", "logger_"))]:
        delattr(logger, name)
