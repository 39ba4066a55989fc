"""One customer's way through a flow, one step at a time.

The service claims a step (flow run + step index) in the same conditional transaction that
records its effect, so each step happens once whatever the scheduler does; this module only
decides what the step does. A run carries the steps it started with.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Optional

from chalicelib.domain.flows.definitions import ConditionStep, ExitStep, FlowDefinition, SendStep, WaitStep, parse_flow

ACTIVE, EXITED, COMPLETED = "active", "exited", "completed"


@dataclass
class FlowRun:
    shop_id: str
    run_id: str
    flow_id: str
    customer_id: str
    started_at: datetime
    due_at: datetime
    definition: dict  # the flow document as it was when the run started
    step: int = 0
    status: str = ACTIVE
    exit_reason: Optional[str] = None
    # What the trigger knew: order_id, checkout token, shipment id...
    context: dict = field(default_factory=dict)
    version: int = 0

    @property
    def flow(self) -> FlowDefinition:
        return parse_flow(self.definition)


@dataclass(frozen=True)
class RunFacts:
    """What the conditions look at, read fresh before each step."""

    customer_exists: bool
    last_order_at: Optional[datetime]
    points_balance: int
    checkout_open: Optional[bool] = None  # None: the run has no checkout
    in_segment: Callable[[dict], bool] = lambda segment: False


@dataclass(frozen=True)
class StepTaken:
    index: int
    kind: str
    send: Optional[SendStep] = None
    exit_reason: Optional[str] = None


def run_id_for(shop_id: str, flow_id: str, occurrence: str) -> str:
    """One run per flow and trigger occurrence (the customer and their first order, one checkout token):
    a repeated webhook finds the run it already started."""
    return hashlib.sha256(f"{shop_id}\x00{flow_id}\x00{occurrence}".encode()).hexdigest()[:32]


def start_run(shop_id: str, flow: FlowDefinition, customer_id: str, occurrence: str, now: datetime,
              context: Optional[dict] = None) -> FlowRun:
    from chalicelib.domain.flows.definitions import flow_document

    return FlowRun(shop_id=shop_id, run_id=run_id_for(shop_id, flow.flow_id, f"{customer_id}\x00{occurrence}"), flow_id=flow.flow_id,
                   customer_id=customer_id, started_at=now, due_at=now, definition=flow_document(flow),
                   context=dict(context or {}))


def take_step(run: FlowRun, facts: RunFacts, now: datetime) -> StepTaken:
    """Do the run's next step (it must be active and due) and move the run on."""
    steps = run.flow.steps
    index = run.step
    step = steps[index]
    if not facts.customer_exists:
        return _exit(run, index, "customer", "the customer is gone (erased or never stored)")
    if isinstance(step, ExitStep):
        return _exit(run, index, "exit", "the flow's exit step")
    if isinstance(step, ConditionStep) and not _holds(step, run, facts):
        return _exit(run, index, "condition", f"left the condition {step.check}")
    run.step = index + 1
    run.due_at = now + timedelta(hours=step.total_hours) if isinstance(step, WaitStep) else now
    if run.step >= len(steps):
        run.status = COMPLETED
    kind = step.type
    return StepTaken(index, kind, send=step if isinstance(step, SendStep) else None)


def _exit(run: FlowRun, index: int, kind: str, reason: str) -> StepTaken:
    run.status, run.exit_reason, run.step = EXITED, reason, index
    return StepTaken(index, kind, exit_reason=reason)


def _holds(step: ConditionStep, run: FlowRun, facts: RunFacts) -> bool:
    ordered = facts.last_order_at is not None and facts.last_order_at > run.started_at
    if step.check == "ordered_since_start":
        return ordered
    if step.check == "not_ordered_since_start":
        return not ordered
    if step.check == "points_above":
        return facts.points_balance > (step.points or 0)
    if step.check == "checkout_open":
        return bool(facts.checkout_open) and not ordered
    if step.check == "in_segment":
        return facts.in_segment(step.segment or {})
    raise ValueError(step.check)


def is_due(run: FlowRun, now: datetime) -> bool:
    return run.status == ACTIVE and run.due_at <= now
