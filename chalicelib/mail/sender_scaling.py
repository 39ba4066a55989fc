"""The send Lambda's concurrency, set from SES's quota: SES ``GetAccount`` and Lambda's reserved
concurrency and SQS event source ``ScalingConfig``."""
from __future__ import annotations


class LambdaSenderScaling:
    def __init__(self, lambda_client, ses_client):
        self._lambda = lambda_client
        self._ses = ses_client

    def max_send_rate(self) -> float:
        """The account's SES sending rate (messages per second) in this region."""
        return float(self._ses.get_account()["SendQuota"]["MaxSendRate"])

    def current(self, function_name: str) -> list[dict]:
        """The function's SQS event source mappings (UUID and MaximumConcurrency)."""
        mappings = self._lambda.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
        return [{"uuid": m["UUID"], "maximum": (m.get("ScalingConfig") or {}).get("MaximumConcurrency")}
                for m in mappings if ":sqs:" in m.get("EventSourceArn", "")]

    def apply(self, function_name: str, concurrency: int) -> list[str]:
        """MaximumConcurrency ``concurrency`` on every SQS mapping and a reservation one above it
        (so Lambda never throttles a received message, which would count as a try). Growing, the
        reservation goes first; shrinking, the mappings do. Returns what changed."""
        mappings = self.current(function_name)
        reservation = concurrency + 1
        changed: list[str] = []

        def reserve() -> None:
            self._lambda.put_function_concurrency(FunctionName=function_name,
                                                  ReservedConcurrentExecutions=reservation)
            changed.append(f"reserved concurrency {reservation}")

        def scale() -> None:
            for mapping in mappings:
                if mapping["maximum"] != concurrency:
                    self._lambda.update_event_source_mapping(UUID=mapping["uuid"],
                                                             ScalingConfig={"MaximumConcurrency": concurrency})
                    changed.append(f"mapping {mapping['uuid']} maximum {concurrency}")

        growing = all((m["maximum"] or 0) <= concurrency for m in mappings)
        for step in ((reserve, scale) if growing else (scale, reserve)):
            step()
        return changed
