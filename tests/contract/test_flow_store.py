"""The flows' and shipments' items keep the same promises on the emulator and in memory: a step
is claimed once, a run saves only on the version read, the due index lists what is due, a
shipment's notices save only over what was read."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.flows.definitions import default_flows
from chalicelib.domain.flows.runs import EXITED, start_run
from chalicelib.domain.orders.shipments import ON_ITS_WAY
from chalicelib.store.loyalty.repository import Change, ConcurrentChange
from tests.support.clock import T0

SHOP = "contract-shop"


def test_a_step_is_claimed_once_and_a_run_saves_on_its_version(repos):
    store, loyalty = repos.flows(SHOP), repos.loyalty(SHOP)
    run = start_run(SHOP, default_flows()[0], "c_1", "first-order", T0)
    loyalty.commit(Change(items=[store.run_write(run)]), T0)
    with pytest.raises(ConcurrentChange):  # the same occurrence started again
        loyalty.commit(Change(items=[store.run_write(run)]), T0)

    stored = store.load_run(run.run_id)
    assert (stored.flow_id, stored.customer_id, stored.step, stored.version) == ("second-purchase", "c_1", 0, 1)
    assert [r.run_id for r in store.due_runs(T0)] == [run.run_id]
    stored.step, stored.due_at = 1, T0 + timedelta(days=14)
    loyalty.commit(Change(items=[store.step_claim(stored, 0, "wait", T0, None), store.run_write(stored)]), T0)
    with pytest.raises(ConcurrentChange):  # a second worker with the same claim and the old version
        loyalty.commit(Change(items=[store.step_claim(stored, 0, "wait", T0, None), store.run_write(stored)]), T0)
    assert store.due_runs(T0 + timedelta(days=1)) == []
    assert [r.run_id for r in store.due_runs(T0 + timedelta(days=14))] == [run.run_id]
    assert [s["step"] for s in store.steps_taken(run.run_id)] == [0]

    finished = store.load_run(run.run_id)
    finished.status = EXITED
    loyalty.commit(Change(items=[store.run_write(finished)]), T0)
    assert store.due_runs(T0 + timedelta(days=30)) == []  # a finished run leaves the due index


def test_shipment_notices_save_only_over_what_was_read(repos):
    store, loyalty = repos.shipments(SHOP), repos.loyalty(SHOP)
    first = store.load("o-1", "s-1")
    assert first.told == set() and first.version == 0
    first.told.add(ON_ITS_WAY)
    loyalty.commit(Change(items=[store.write(first)]), T0)
    stale = store.load("o-1", "s-1")
    stale.version = 0
    with pytest.raises(ConcurrentChange):
        loyalty.commit(Change(items=[store.write(stale)]), T0)
    assert store.load("o-1", "s-1").told == {ON_ITS_WAY}
