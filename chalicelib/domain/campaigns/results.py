"""What a campaign or a flow brought back, as the marketer reads it: the funnel of its counters."""
from __future__ import annotations

from collections import Counter
from typing import Mapping

from chalicelib.domain.money import format_minor

# The funnel, in order; anything else counted (skips by reason) follows.
FUNNEL = ("sent", "delivered", "bounced", "complained", "unsubscribed", "clicks", "unique_clicks",
          "converters", "orders", "codes_redeemed", "claims", "points_claimed", "failed")

# Each rate: (numerator, denominator). The denominator is fixed per rate: ``sent`` is known the
# moment a mail leaves and never switches (``delivered`` arrives later, or never where the
# sending account has no event destination, and switching to it made 1 delivery of 7 sends read
# as a conversion rate of 2.0). ``unique_clicks`` counts e-mails clicked and ``converters``
# customers whose first attributed order came after a click; orders and revenue stay figures.
RATES = {
    "delivery_rate": ("delivered", "sent"),
    "click_rate": ("unique_clicks", "sent"),
    "conversion_rate": ("converters", "sent"),
    "unsubscribe_rate": ("unsubscribed", "sent"),
    "bounce_rate": ("bounced", "sent"),
    "complaint_rate": ("complained", "sent"),
}


def results_view(shop, counts: Mapping[str, int]) -> dict:
    """The public view of a subject's counters: the funnel in order, skips and held mail by reason,
    revenue in the shop's currency and the rates (the dashboard's funnels use it too)."""
    counts = Counter(counts)
    revenue = counts.pop("revenue_minor", 0)
    skipped = {name[len("skipped_"):]: n for name, n in sorted(counts.items()) if name.startswith("skipped_")}
    # Held mail waits for the shop's sender to verify; released, it counts as sent (or skipped) instead.
    held = {name[len("held_"):]: n for name, n in sorted(counts.items()) if name.startswith("held_") and n}
    funnel = {name: counts.get(name, 0) for name in FUNNEL}
    others = {name: n for name, n in sorted(counts.items())
              if name not in funnel and not name.startswith(("skipped_", "held_"))}
    return {
        **funnel, **others,
        "skipped": skipped, "skipped_total": sum(skipped.values()),
        "held": held, "held_total": sum(held.values()),
        "revenue": format_minor(revenue, shop.currency_exponent), "revenue_minor": revenue,
        "currency": shop.currency,
        "rates": {name: _rate(funnel[part], funnel[whole]) for name, (part, whole) in RATES.items()},
        "rate_definitions": {name: {"numerator": part, "denominator": whole} for name, (part, whole) in RATES.items()},
    }


def _rate(part: int, whole: int) -> float | None:
    """A share of ``whole``, never above 1: the counters are at most once (a lost ``sent`` count
    must not turn into a rate above 100 %)."""
    return round(min(part / whole, 1.0), 4) if whole else None


def _mean(total: int, count: int) -> float | None:
    """A per-recipient mean: unlike a rate it passes 1 when recipients order more than once."""
    return round(total / count, 4) if count else None


def holdout_view(shop, counts: Mapping[str, int], holdout_percent: int) -> dict:
    """The sent group against the holdout over the attribution window, whatever was clicked, and
    the lift of each metric with its 95 % interval (domain/campaigns/lift.py says how)."""
    from chalicelib.domain.campaigns import lift

    groups = {}
    totals = {}
    for group in lift.GROUPS:
        total = totals[group] = lift.group_totals(counts, group)
        groups[group] = {
            "recipients": total.recipients, "converters": total.converters, "orders": total.orders,
            "revenue": format_minor(total.revenue_minor, shop.currency_exponent), "revenue_minor": total.revenue_minor,
            "conversion_rate": _rate(total.converters, total.recipients),
            "revenue_per_recipient": format_minor(round(total.revenue_minor / total.recipients), shop.currency_exponent)
            if total.recipients else None,
            "orders_per_recipient": _mean(total.orders, total.recipients),
        }
    return {"holdout_percent": holdout_percent, "attribution_days": shop.attribution_days,
            "currency": shop.currency, "groups": groups,
            "lift": lift.lift(totals[lift.SENT], totals[lift.HOLDOUT], revenue_scale=10 ** -shop.currency_exponent)}


def ab_test_view(shop, counts: Mapping[str, int], campaign) -> dict:
    """Each variant's words and results, the phase, and (once decided) the winner in plain words."""
    from chalicelib.domain.campaigns import ab_test

    variants = []
    for index, words in enumerate(campaign.variants):
        sent = counts.get(f"variant_{index}_sent", 0)
        clicks = counts.get(f"variant_{index}_unique_clicks", 0)
        converters = counts.get(f"variant_{index}_converters", 0)
        variants.append({"name": ab_test.name(index), **words, "sent": sent, "unique_clicks": clicks,
                         "click_rate": _rate(clicks, sent), "converters": converters,
                         "conversion_rate": _rate(converters, sent),
                         "revenue": format_minor(counts.get(f"variant_{index}_revenue_minor", 0), shop.currency_exponent)})
    phase = "done" if campaign.winner and campaign.status == "done" else (
        "sending the winner" if campaign.winner else "testing")
    return {**(campaign.ab_test or {}), "phase": phase, "variants": variants, "winner": campaign.winner}
