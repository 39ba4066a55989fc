"""The flows schedule: every shop's due steps at the clock's now."""
from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.services.flows.runner import run_due_flows
from chalicelib.services.shops.lookup import load_shop


def run_flows_now(deps) -> dict:
    now = deps.clock()
    shops = []
    for shop_id, _ in deps.repos.shops().list_ids():
        try:
            shops.append(load_shop(deps, shop_id))
        except NotFound:  # a shop being erased: its runs go with it
            continue
    return run_due_flows(deps, shops, now)
