"""How many send Lambdas run at once: as many as SES's sending rate keeps busy, no more.

One send Lambda handles its batch of ten one e-mail after the other, each taking
``seconds_per_email`` (CPU, its DynamoDB requests and SES's answer; bench.cost_model models it),
so it sends ``1 / seconds_per_email`` a second. Fewer Lambdas than ``rate x seconds_per_email``
leave SES's quota unused; more only wait on the shared rate limiter (and pay for the wait).
"""
from __future__ import annotations

import math

MIN_CONCURRENCY = 2  # the least an SQS event source's MaximumConcurrency may be
MAX_CONCURRENCY = 1000  # the most it may be


def sender_concurrency(max_send_rate: float, seconds_per_email: float) -> int:
    """Concurrent send Lambdas for an account that may send ``max_send_rate`` e-mails a second."""
    if not (math.isfinite(max_send_rate) and math.isfinite(seconds_per_email)) \
            or max_send_rate <= 0 or seconds_per_email <= 0:
        return MIN_CONCURRENCY
    return max(MIN_CONCURRENCY, min(MAX_CONCURRENCY, math.ceil(max_send_rate * seconds_per_email)))
