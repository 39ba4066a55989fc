"""The store's state read straight from memory: the emulator's (it runs in the test process), or
the in-memory store's when the test runs on it (tests/support/fakes)."""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter


# What counts requests by design, refused ones too: the shop's webhook-health counters
# (docs/import.md, "Webhook health"), the abuse-limit counters and a key's last use
# (docs/security.md); nothing else may change.
_COUNTERS = ("WEBHOOKHEALTH", "RATE")


def table_fingerprint() -> tuple[int, object]:
    """Every item of the test's table, as a count and something equal only for the same items:
    cheap enough to take around every request. In memory, a copy of the items by key (a deep
    copy, compared as dicts: half the cost of JSON with sorted keys); on the emulator a digest."""
    from tests.support.fakes.store import open_store

    store = open_store()
    if store is not None:
        from tests.support.fakes.dynamodb import _copied

        items = {}
        for item in store.items():
            if item.get("sk", {}).get("S") not in _COUNTERS:
                item = _without_last_use(_copied(item))
                items[repr(item.get("pk")), repr(item.get("sk"))] = item  # {"S": ...}: one key each
        return len(items), items
    else:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"][os.environ["AWS_DEFAULT_REGION"]].get_table(os.environ["LOYALTY_TABLE"])
        rows = sorted(json.dumps(_without_last_use(item.to_json()), sort_keys=True, default=str)
                      for item in table.all_items()
                      if item.range_key is None or item.range_key.value not in _COUNTERS)
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _without_last_use(item: dict) -> dict:
    item.get("Attributes", item).pop("last_used_at", None)
    return item


def accepted_by_ses(recipients) -> Counter:
    """How many messages SES accepted for each of ``recipients`` (SES v2 sends land in moto's
    SES v1 backend)."""
    from moto.ses.models import ses_backends

    wanted = set(recipients)
    backend = ses_backends["123456789012"][os.environ["AWS_DEFAULT_REGION"]]
    return Counter(address for message in list(backend.sent_messages)
                   for address in set(getattr(message, "destinations", []) or []) if address in wanted)


def sent_mail_in_process() -> list:
    """Every message moto's SES accepted in this process, oldest first (``devstack.sent_mail``'s
    ``SentMail``): the emulator's, which runs here, and the in-memory store's alike."""
    from moto.ses.models import RawMessage, ses_backends

    from devstack.sent_mail import SentMail

    backend = ses_backends["123456789012"][os.environ["AWS_DEFAULT_REGION"]]
    return [SentMail(m.id, m.source, sorted(set(m.destinations)), m.raw_data)
            for m in list(backend.sent_messages) if isinstance(m, RawMessage)]
