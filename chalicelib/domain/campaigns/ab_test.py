"""A/B tests that finish themselves: variants of a campaign's words, a test share sent first and
split evenly, the winner chosen by click or conversion rate after the marketer's wait, and the rest
sent the winner.

Who is in the test, and which variant they get, is a hash of (campaign, customer): the same on every
page, retry and re-queue, so the rest phase can tell test recipients from the others by the same
hash, without storing a list. The winner is the variant with the highest rate; the margin over the
runner-up is given with Newcombe's 95 % interval (domain/campaigns/lift.py), and the explanation
says plainly whether the lead is more than chance.
Pure: no clock, no I/O.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from chalicelib.domain.campaigns import lift

MAX_VARIANTS = 4
CLICK_RATE, CONVERSION_RATE = "click_rate", "conversion_rate"
# What a variant may change: the subject and preheader, and the campaign template's body texts.
VARIANT_FIELDS = ("subject", "preheader", "title", "description")
BODY_FIELDS = ("title", "description")
LETTERS = "ABCD"


def _unit(*parts: str) -> float:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def in_test(campaign_id: str, customer_id: str, test_percent: int) -> bool:
    return _unit("abtest", campaign_id, customer_id) < test_percent / 100


def test_variant(campaign_id: str, customer_id: str, variants: int) -> int:
    """The variant a test recipient gets: an even split."""
    return int(_unit("variant", campaign_id, customer_id) * variants)


def name(index: int) -> str:
    return LETTERS[index]


@dataclass(frozen=True)
class VariantResult:
    index: int
    sent: int
    successes: int  # unique clicks or converters

    @property
    def rate(self) -> Optional[float]:
        return self.successes / self.sent if self.sent else None


def variant_results(counts: Mapping[str, int], variants: int, winner_by: str) -> list[VariantResult]:
    success = "unique_clicks" if winner_by == CLICK_RATE else "converters"
    return [VariantResult(i, int(counts.get(f"variant_{i}_sent", 0)), int(counts.get(f"variant_{i}_{success}", 0)))
            for i in range(variants)]


def decide(results: Sequence[VariantResult], winner_by: str) -> dict:
    """The winner, its margin over the runner-up (rate points, with a 95 % interval) and the decision
    in plain words."""
    measure = "click rate" if winner_by == CLICK_RATE else "conversion rate"
    ranked = sorted(results, key=lambda r: (-(r.rate or 0.0), r.index))
    best, runner_up = ranked[0], ranked[1]
    if not best.sent or not runner_up.sent:
        return {"variant": best.index, "name": name(best.index), "by": winner_by, "margin": None,
                "explanation": f"Too few test e-mails were sent to compare the variants; variant {name(best.index)} "
                               f"is sent to the rest as the first one planned."}
    margin = lift.newcombe_difference(best.successes, best.sent, runner_up.successes, runner_up.sent)
    points = lambda value: f"{value * 100:.1f}"  # noqa: E731
    facts = (f"Variant {name(best.index)} had the best {measure}: {points(best.rate)} % "
             f"({best.successes} of {best.sent}) against {points(runner_up.rate)} % for variant {name(runner_up.index)} "
             f"({runner_up.successes} of {runner_up.sent}), {points(margin.estimate)} points ahead "
             f"(95 % interval {points(margin.low)} to {points(margin.high)} points).")
    if best.successes == runner_up.successes:
        verdict = f" The variants tied; variant {name(best.index)} goes to the rest as the first one planned."
    elif margin.low > 0:
        verdict = f" The lead is more than chance: the rest get variant {name(best.index)}."
    else:
        verdict = (f" The lead is within what chance alone could give, so it may not hold; variant "
                   f"{name(best.index)} goes to the rest as the best guess.")
    return {"variant": best.index, "name": name(best.index), "by": winner_by,
            "margin": {"estimate": round(margin.estimate, 4), "low": round(margin.low, 4), "high": round(margin.high, 4)},
            "significant": margin.low > 0, "explanation": facts + verdict}
