"""What a campaign or a flow brought back: its counters, as the marketer reads them.

Counters are kept on write (``store.results``); reading a campaign's results is one
Query of its shards, whatever its size.
"""
from __future__ import annotations

from collections import Counter

from chalicelib.domain.campaigns.links import campaign_subject, flow_subject
from chalicelib.domain.money import format_minor
from chalicelib.errors import NotFound
from chalicelib.services.shops.shops import load_shop

# The funnel, in order; anything else counted (skips by reason) follows.
FUNNEL = ("sent", "delivered", "bounced", "complained", "unsubscribed", "clicks", "unique_clicks",
          "orders", "codes_redeemed", "claims", "points_claimed", "failed")


def campaign_results(deps, shop_id: str, campaign_id: str) -> dict:
    shop = load_shop(deps, shop_id)
    campaign = deps.repos.campaigns(shop_id).get(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}", field="campaign_id")
    counts = deps.repos.results(shop_id, campaign_subject(campaign_id)).totals()
    return {"campaign_id": campaign_id, "name": campaign.name, "template": campaign.template,
            "status": campaign.status, **_view(shop, counts)}


def flow_results(deps, shop_id: str, template: str) -> dict:
    from chalicelib.mail.base import TEMPLATES

    shop = load_shop(deps, shop_id)
    if template not in TEMPLATES:
        raise NotFound(f"template: no {template!r}; known: {', '.join(TEMPLATES)}", field="template")
    return {"template": template, **_view(shop, deps.repos.results(shop_id, flow_subject(template)).totals())}


def all_flow_results(deps, shop_id: str) -> dict:
    """Every flow (automated e-mail) of the shop: one Query per template."""
    from chalicelib.mail.base import TEMPLATES

    shop = load_shop(deps, shop_id)
    return {"flows": [{"template": template, **_view(shop, deps.repos.results(shop_id, flow_subject(template)).totals())}
                      for template in TEMPLATES]}


def _view(shop, counts: Counter) -> dict:
    revenue = counts.pop("revenue_minor", 0)
    skipped = {name[len("skipped_"):]: n for name, n in sorted(counts.items()) if name.startswith("skipped_")}
    # Held mail waits for the shop's sender to verify; released, it counts as sent (or skipped) instead.
    held = {name[len("held_"):]: n for name, n in sorted(counts.items()) if name.startswith("held_") and n}
    funnel = {name: counts.get(name, 0) for name in FUNNEL}
    others = {name: n for name, n in sorted(counts.items())
              if name not in funnel and not name.startswith(("skipped_", "held_"))}
    base = funnel["delivered"] or funnel["sent"]
    return {
        **funnel, **others,
        "skipped": skipped, "skipped_total": sum(skipped.values()),
        "held": held, "held_total": sum(held.values()),
        "revenue": format_minor(revenue, shop.currency_exponent), "revenue_minor": revenue,
        "currency": shop.currency,
        "rates": {
            "click_rate": _rate(funnel["unique_clicks"], base),
            "conversion_rate": _rate(funnel["orders"], base),
            "unsubscribe_rate": _rate(funnel["unsubscribed"], base),
            "bounce_rate": _rate(funnel["bounced"], funnel["sent"]),
            "complaint_rate": _rate(funnel["complained"], funnel["sent"]),
        },
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def results_view(shop, counts: Counter) -> dict:
    """The public view of a subject's counters (the dashboard's funnels use it too)."""
    return _view(shop, Counter(counts))
