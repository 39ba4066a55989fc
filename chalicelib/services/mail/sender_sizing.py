"""Sending sized by SES: the send Lambda's concurrency follows the account's SES rate (scheduled)."""
from __future__ import annotations

import logging

from chalicelib.domain.mail.sender_sizing import sender_concurrency

logger = logging.getLogger("loyalty.mail")


def size_sender(deps) -> dict:
    """Reads SES's sending rate and sets the send function's concurrency to what that rate keeps
    busy (domain/mail/sender_sizing.py). Without LOYALTY_SEND_FUNCTION (local, tests) it only says
    what it would set."""
    scaling = deps.sender_scaling
    rate = scaling.max_send_rate()
    concurrency = sender_concurrency(rate, deps.config.send_seconds_per_email)
    function = deps.config.send_function_name
    changed = scaling.apply(function, concurrency) if function else []
    if rate != deps.config.ses_max_send_rate:
        # The shared rate limiter paces by LOYALTY_SES_MAX_SEND_RATE: a quota raise needs it raised too.
        logger.warning("SES allows %.1f e-mails a second; LOYALTY_SES_MAX_SEND_RATE says %.1f", rate,
                       deps.config.ses_max_send_rate)
    return {"max_send_rate": rate, "seconds_per_email": deps.config.send_seconds_per_email,
            "concurrency": concurrency, "function": function, "changed": changed}
