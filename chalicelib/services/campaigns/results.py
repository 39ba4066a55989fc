"""What a campaign or a flow brought back: its counters, as the marketer reads them.

Counters are kept on write (``store.results``); reading a campaign's results is one
Query of its shards, whatever its size.
"""
from __future__ import annotations

from chalicelib.domain.campaigns.links import campaign_subject, flow_subject
from chalicelib.domain.campaigns.results import ab_test_view, holdout_view, results_view
from chalicelib.errors import NotFound
from chalicelib.services.shops.lookup import load_shop


def campaign_results(deps, shop_id: str, campaign_id: str) -> dict:
    shop = load_shop(deps, shop_id)
    campaign = deps.repos.campaigns(shop_id).get(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}", field="campaign_id")
    counts = deps.repos.results(shop_id, campaign_subject(campaign_id)).totals()
    # The groups' own counters stay out of the funnel: they are read through holdout_view.
    funnel_counts = {name: n for name, n in counts.items() if not name.startswith(("sent_", "holdout_", "variant_"))}
    answer = {"campaign_id": campaign_id, "name": campaign.name, "template": campaign.template,
              "status": campaign.status, **results_view(shop, funnel_counts)}
    if campaign.holdout_percent:
        answer.update(holdout_view(shop, counts, campaign.holdout_percent))
    if campaign.variants:
        answer["ab_test"] = ab_test_view(shop, counts, campaign)
    return answer


def flow_results(deps, shop_id: str, template: str) -> dict:
    from chalicelib.mail.base import TEMPLATES

    shop = load_shop(deps, shop_id)
    if template not in TEMPLATES:
        raise NotFound(f"template: no {template!r}; known: {', '.join(TEMPLATES)}", field="template")
    return {"template": template, **results_view(shop, deps.repos.results(shop_id, flow_subject(template)).totals())}


def all_flow_results(deps, shop_id: str) -> dict:
    """Every flow (automated e-mail) of the shop: one Query per template."""
    from chalicelib.mail.base import TEMPLATES

    shop = load_shop(deps, shop_id)
    return {"flows": [_flow_line(shop, template, *deps.repos.results(shop_id, flow_subject(template)).totals_and_last())
                      for template in TEMPLATES]}


def _flow_line(shop, template: str, totals, last: dict) -> dict:
    """A flow's results, whether the shop has it on, and when it last sent one (None: never)."""
    from chalicelib.domain.shops.shop import SWITCHABLE_FLOWS
    from chalicelib.domain.timestamps import iso

    return {"template": template, **results_view(shop, totals),
            "on": shop.sends_flow(template), "switchable": template in SWITCHABLE_FLOWS,
            "last_sent_at": iso(last["sent"]) if "sent" in last else None}
