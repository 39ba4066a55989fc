"""Flow definitions, flow runs, step claims and checkouts: reads, and the (item, condition)
pairs each change commits inside its one transaction (store/loyalty/repository.py ``Change``)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.flows.runs import ACTIVE, FlowRun
from chalicelib.store import keys
from chalicelib.store.models import CheckoutItem, FlowItem, FlowRunItem, FlowStepItem, over_version, stored_version

FLOW_SK_PREFIX = "FLOW#"
RUN_SK = "RUN"
# Housekeeping only (TTL is never relied on for correctness): a checkout nobody completed and a
# finished run are let go after these.
CHECKOUT_KEEP = timedelta(days=30)
FINISHED_RUN_KEEP = timedelta(days=90)


def run_pk(shop_id: str, run_id: str) -> str:
    return f"FLOWRUN#{shop_id}#{run_id}"


def due_pk(shop_id: str) -> str:
    return f"FLOWDUE#{shop_id}"


def step_sk(index: int) -> str:
    return f"STEP#{index:03d}"


def checkout_pk(shop_id: str, token: str) -> str:
    return f"CHECKOUT#{shop_id}#{token}"


class FlowStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    # -- definitions --------------------------------------------------------------------
    def definitions(self) -> dict[str, tuple[dict, int]]:
        """flow id → (document, version) of every flow the shop saved."""
        return {item.sk[len(FLOW_SK_PREFIX):]: (item.document, stored_version(item))
                for item in FlowItem.query(keys.shop_pk(self.shop_id), FlowItem.sk.startswith(FLOW_SK_PREFIX),
                                           consistent_read=True)}

    def save_definition(self, flow_id: str, document: dict, version: int, now: datetime) -> int:
        """Saves over ``version`` (0: new); raises ``ValueError`` when someone saved in between."""
        item = FlowItem(keys.shop_pk(self.shop_id), FLOW_SK_PREFIX + flow_id, document=document,
                        updated_at=keys.iso(now))
        try:
            over_version(item, version).save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise ValueError("the flow was changed since it was read") from None
            raise
        return version + 1

    # -- runs -----------------------------------------------------------------------------
    def load_run(self, run_id: str) -> Optional[FlowRun]:
        try:
            item = FlowRunItem.get(run_pk(self.shop_id, run_id), RUN_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _run_from_item(self.shop_id, item)

    def due_runs(self, now: datetime, limit: int = 100) -> list[FlowRun]:
        """Active runs whose next step is due (index read: reload before acting)."""
        upto = keys.iso(now) + "~"
        return [_run_from_item(self.shop_id, item)
                for item in FlowRunItem.by_due_day.query(due_pk(self.shop_id), FlowRunItem.gsi1sk <= upto,
                                                         limit=limit)]

    def steps_taken(self, run_id: str) -> list[dict]:
        return [{"step": int(item.sk.split("#")[1]), "kind": item.step_kind, "taken_at": item.taken_at,
                 "outcome": item.outcome}
                for item in FlowStepItem.query(run_pk(self.shop_id, run_id), FlowStepItem.sk.startswith("STEP#"),
                                               consistent_read=True)]

    def run_write(self, run: FlowRun) -> tuple:
        state = {"flow_id": run.flow_id, "customer_id": run.customer_id, "started_at": keys.iso(run.started_at),
                 "due_at": keys.iso(run.due_at), "definition": run.definition, "step": run.step,
                 "exit_reason": run.exit_reason, "context": run.context}
        item = over_version(FlowRunItem(run_pk(self.shop_id, run.run_id), RUN_SK, state=state, status=run.status),
                            run.version)
        if run.status == ACTIVE:
            item.gsi1pk, item.gsi1sk = due_pk(self.shop_id), f"{keys.iso(run.due_at)}#{run.run_id}"
        else:
            item.ttl = int((run.due_at + FINISHED_RUN_KEEP).timestamp())
        return item, None  # the version condition comes with the item

    def step_claim(self, run: FlowRun, index: int, kind: str, now: datetime, outcome: Optional[str]) -> tuple:
        """The claim of step ``index``: it exists once, so the step's effect commits once."""
        item = FlowStepItem(run_pk(self.shop_id, run.run_id), step_sk(index), step_kind=kind, taken_at=keys.iso(now),
                            outcome=outcome)
        return item, FlowStepItem.pk.does_not_exist()

    # -- checkouts --------------------------------------------------------------------------
    def load_checkout(self, token: str) -> Optional[tuple[dict, str, int]]:
        """(state, status, version) of a checkout, or None."""
        try:
            item = CheckoutItem.get(checkout_pk(self.shop_id, token), "CHECKOUT", consistent_read=True)
        except DoesNotExist:
            return None
        return item.state, item.status, stored_version(item)

    def checkout_write(self, token: str, state: dict, status: str, version: int) -> tuple:
        updated = keys.parse_iso(state["updated_at"]) if state.get("updated_at") else None
        item = CheckoutItem(checkout_pk(self.shop_id, token), "CHECKOUT", state=state, status=status,
                            ttl=int((updated + CHECKOUT_KEEP).timestamp()) if updated else None)
        return over_version(item, version), None  # the version condition comes with the item


def _run_from_item(shop_id: str, item: FlowRunItem) -> FlowRun:
    state = item.state
    return FlowRun(shop_id=shop_id, run_id=item.pk.split("#", 2)[2], flow_id=state["flow_id"],
                   customer_id=state["customer_id"], started_at=keys.parse_iso(state["started_at"]),
                   due_at=keys.parse_iso(state["due_at"]), definition=state["definition"], step=int(state["step"]),
                   status=item.status, exit_reason=state.get("exit_reason"), context=state.get("context") or {},
                   version=stored_version(item))
