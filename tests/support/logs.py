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
    use_json_lines(stream=buffer)
    try:
        yield lines
    finally:
        logger.handlers[:] = saved[0]
        logger.propagate, logger.level = saved[1], saved[2]
        # Powertools marks the logger it configured; the next configuration must start afresh.
        for name in [name for name in vars(logger) if name == "init" or name.startswith(("powertools", "logger_"))]:
            delattr(logger, name)
        lines += [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
