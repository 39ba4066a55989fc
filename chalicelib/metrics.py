"""The service's own metrics in CloudWatch's embedded metric format (EMF): one JSON line on
stdout per observation, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics
(no PutMetricData call, no extra request, no extra latency).

Namespace ``LoyaltyMail``, dimensions ``Service`` and ``Stage`` (and ``Reason`` for skips, as a
second dimension set, so the total is one metric and each reason another). The dashboard in
infra/stack.py plots exactly these names.
"""
from __future__ import annotations

import sys
from datetime import datetime
from typing import Callable, Optional

from chalicelib.json_text import dumps_compact

NAMESPACE = "LoyaltyMail"
SERVICE = "loyalty-mail"


class Metrics:
    """Writes EMF records through ``sink`` (stdout by default; tests pass a list's append)."""

    def __init__(self, stage: str, sink: Optional[Callable[[str], None]] = None):
        self.stage = stage
        self._sink = sink or _stdout

    def count(self, name: str, now: datetime, value: float = 1, *, reason: Optional[str] = None) -> None:
        self._emit({name: value}, {name: "Count"}, now, reason=reason)

    def milliseconds(self, name: str, value: float, now: datetime) -> None:
        self._emit({name: round(value, 3)}, {name: "Milliseconds"}, now)

    def seconds(self, name: str, value: float, now: datetime) -> None:
        self._emit({name: round(value, 3)}, {name: "Seconds"}, now)

    def _emit(self, values: dict, units: dict, now: datetime, *, reason: Optional[str] = None) -> None:
        dimension_sets = [["Service", "Stage"]]
        record: dict = {"Service": SERVICE, "Stage": self.stage}
        if reason:
            dimension_sets.append(["Service", "Stage", "Reason"])
            record["Reason"] = reason[:100]
        record["_aws"] = {"Timestamp": int(now.timestamp() * 1000), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": dimension_sets,
            "Metrics": [{"Name": name, "Unit": unit} for name, unit in units.items()]}]}
        record.update(values)
        try:
            self._sink(dumps_compact(record))
        except Exception:  # a metric never costs an e-mail or a webhook
            pass


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
