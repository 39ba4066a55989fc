"""What a campaign or a flow brought back, as the marketer reads it: the funnel of its counters."""
from __future__ import annotations

from collections import Counter
from typing import Mapping

from chalicelib.domain.money import format_minor

# The funnel, in order; anything else counted (skips by reason) follows.
FUNNEL = ("sent", "delivered", "bounced", "complained", "unsubscribed", "clicks", "unique_clicks",
          "orders", "codes_redeemed", "claims", "points_claimed", "failed")


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
