"""Hostile webhook payloads: platforms' own shapes with one value changed or dropped."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from devstack.samples import sample_order_payload, sample_refund_payload


_KYIV = timezone(timedelta(hours=3))


def _order_payload(platform: str, **overrides) -> dict:
    return sample_order_payload(platform, order_id="1001", email="olena.koval@example.com",
                                created_at=datetime(2024, 5, 22, 12, 0, tzinfo=_KYIV), **overrides)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["", "0", "-1", "1e400", "12.345", "2024-02-30", "2024-05-22T09:00:00+25:00", "9999-12-31T23:59:59-23:59"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


SEED_PAYLOADS = {
    ("shopify", "orders/create"): _order_payload("shopify", refunds=[{"id": "9", "lines": [{"line_id": "1", "quantity": 1}]}]),
    ("shopify", "refunds/create"): sample_refund_payload("shopify", refund_id="9", order_id="1001"),
    ("woocommerce", "order.updated"): sample_refund_payload("woocommerce", refund_id="9", order_id="1001"),
    ("generic", ""): _order_payload("generic"),
}


@st.composite


def mutated_payloads(draw):
    (platform, topic), seed = draw(st.sampled_from(sorted(SEED_PAYLOADS.items())))
    payload = copy.deepcopy(seed)
    path = draw(st.sampled_from(list(_paths(payload))[1:]))
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return platform, topic, json.dumps(payload, ensure_ascii=False).encode()
