"""The minute schedule of the campaigns feature: due campaigns, then due offer e-mails."""
from __future__ import annotations

from chalicelib.services.campaigns.campaigns import run_due_campaigns
from chalicelib.services.campaigns.offer_mail import send_due_offers


def run_due_sends(deps) -> dict:
    now = deps.clock()
    report = run_due_campaigns(deps, now)
    offers = send_due_offers(deps, now)
    return {**report, **({"offers": offers} if offers else {})}
