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
