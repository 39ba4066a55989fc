"""The review bonus: points for an approved extended review, once per product per
customer; a removed review takes them back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.program import ProgramRules

APPROVED, REMOVED = "approved", "removed"


@dataclass
class ReviewBonus:
    """What one product's review gave one customer (the idempotency record of the bonus)."""

    product: str
    review_id: str
    points: int
    status: str  # approved (points held) | removed (points taken back)
    version: int = 0


@dataclass(frozen=True)
class Review:
    review_id: str
    product: str
    status: str
    length: int


def decide(review: Review, held: Optional[ReviewBonus], account: Account, rules: ProgramRules,
           now: datetime) -> tuple[Optional[ReviewBonus], str]:
    """The account's change for a review event, and what happened (for the answer)."""
    if review.status == APPROVED:
        if held is not None:
            return None, "already_rewarded" if held.status == APPROVED else "product_already_reviewed"
        if rules.review.bonus_points <= 0:
            return None, "no_review_bonus"
        if review.length < rules.review.min_chars:
            return None, f"shorter_than_{rules.review.min_chars}_characters"
        points = rules.review.bonus_points
        account.earn(points, lot_id=f"review-{review.product}", cause=f"review:{review.review_id}", now=now,
                     expires_at=add_months(now, rules.points_validity_months), kind="bonus",
                     detail={"product": review.product})
        account.reviews_count += 1
        return ReviewBonus(review.product, review.review_id, points, APPROVED), "rewarded"
    if held is None or held.status != APPROVED or held.review_id != review.review_id:
        return None, "nothing_to_take_back"
    account.reverse(held.points, cause=f"review-removed:{review.review_id}", now=now,
                    prefer_lot_id=f"review-{review.product}", detail={"product": review.product})
    account.reviews_count = max(account.reviews_count - 1, 0)
    held.status = REMOVED
    return held, "taken_back"
