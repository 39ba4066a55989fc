"""A shop's loyalty program rules and the tier ladder.

The defaults follow the shops' own example: 1 point per 20 UAH, 1 point = 1 UAH,
redeem from 100 points, points valid 6 months, Silver from 2,000 and Gold from
5,000 of spend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Optional
from chalicelib.domain.money import to_minor

TierPeriod = Literal["lifetime", "rolling_12_months"]


@dataclass(frozen=True)
class Tier:
    name: str
    min_spend: Decimal
    discount_percent: Decimal


DEFAULT_TIERS = (
    Tier("Silver", Decimal("2000"), Decimal("5")),
    Tier("Gold", Decimal("5000"), Decimal("7")),
)


@dataclass(frozen=True)
class TierStanding:
    tier: Optional[Tier]
    next_tier: Optional[Tier]
    spend_to_next_minor: int

    @property
    def discount_percent(self) -> Decimal:
        return self.tier.discount_percent if self.tier else Decimal(0)


@dataclass(frozen=True)
class ReferralRules:
    """A friend's first-order discount and the referrer's reward (points or money)."""

    enabled: bool = True
    friend_discount_percent: Decimal = Decimal("10")
    reward_points: int = 200
    reward_money: Decimal = Decimal("0")  # into the cashback wallet, in major units
    return_window_days: int = 14
    monthly_cap: int = 10


@dataclass(frozen=True)
class ReviewRules:
    bonus_points: int = 0  # 0: reviews earn nothing
    min_chars: int = 200  # an "extended review"


@dataclass(frozen=True)
class MembershipPlan:
    """One membership package the shop sells as a product: its period and its terms."""

    sku: str
    name: str  # as the customer's e-mails name it ("": the single-SKU membership, unnamed)
    period: Literal["monthly", "yearly"] = "monthly"
    free_shipping: bool = True  # a free-shipping code for each period
    extra_cashback_percent: Decimal = Decimal("0")
    exclusive_offers: bool = False  # members of this plan get the shop's member-only offers

    @property
    def months(self) -> int:
        return 12 if self.period == "yearly" else 1


@dataclass(frozen=True)
class MembershipRules:
    sku: Optional[str] = None  # None: no single-SKU membership (the one plan shops had before ``plans``)
    period: Literal["monthly", "yearly"] = "monthly"
    extra_cashback_percent: Decimal = Decimal("0")
    reminder_days: int = 7
    # Several packages (monthly, yearly; different free-shipping, cashback and exclusive-offer terms).
    plans: tuple[MembershipPlan, ...] = ()

    @property
    def months(self) -> int:
        return 12 if self.period == "yearly" else 1

    def all_plans(self) -> tuple[MembershipPlan, ...]:
        """Every plan on sale: ``plans``, and the single ``sku`` as a plan with the terms it always had
        (free shipping, the extra cashback, member-only offers)."""
        single = (MembershipPlan(self.sku, "", self.period, True, self.extra_cashback_percent, True),) \
            if self.sku and all(plan.sku != self.sku for plan in self.plans) else ()
        return single + self.plans

    def plan(self, sku: Optional[str]) -> Optional[MembershipPlan]:
        """The plan sold as ``sku``; a membership bought before plans existed (None) is the single SKU's."""
        plans = self.all_plans()
        if sku is None:
            return next((plan for plan in plans if plan.sku == self.sku), plans[0] if plans else None)
        return next((plan for plan in plans if plan.sku == sku), None)


@dataclass(frozen=True)
class AchievementRule:
    kind: Literal["orders", "reviews", "tier"]
    points: int
    threshold: int = 1  # orders or reviews reached
    tier: Optional[str] = None  # kind "tier": the tier reached

    @property
    def achievement_id(self) -> str:
        return f"tier:{self.tier}" if self.kind == "tier" else f"{self.kind}:{self.threshold}"


@dataclass(frozen=True)
class ProgramRules:
    earn_rate: Decimal = Decimal("0.05")
    point_value: Decimal = Decimal("1")
    min_redeem_points: int = 100
    points_validity_months: int = 6
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    tier_period: TierPeriod = "lifetime"
    cashback_percent: Decimal = Decimal("0")
    excluded_skus: frozenset[str] = field(default_factory=frozenset)
    excluded_categories: frozenset[str] = field(default_factory=frozenset)
    exclude_gift_cards: bool = True
    redemption_code_validity_days: int = 30
    birthday_bonus_points: int = 50
    winback_after_days: int = 90
    referral: ReferralRules = ReferralRules()
    review: ReviewRules = ReviewRules()
    signup_bonus_points: int = 0
    membership: MembershipRules = MembershipRules()
    achievements: tuple[AchievementRule, ...] = ()

    def standing(self, spend_minor: int, exponent: int) -> TierStanding:
        """Tier for a spend (in minor units), and how far the next one is."""
        ladder = sorted(self.tiers, key=lambda t: t.min_spend)
        current: Optional[Tier] = None
        following: Optional[Tier] = None
        for tier in ladder:
            if to_minor(tier.min_spend, exponent) <= spend_minor:
                current = tier
            elif following is None:
                following = tier
        to_next = to_minor(following.min_spend, exponent) - spend_minor if following else 0
        return TierStanding(current, following, to_next)

    def climbs(self, before: Optional[str], after: Optional[str]) -> bool:
        """Whether moving from tier ``before`` to ``after`` (names; None: no tier) goes up the
        ladder. A ``before`` the program no longer has (renamed, removed) is not a climb: the
        same spend under a new name is no news for the customer."""
        ladder = [tier.name for tier in sorted(self.tiers, key=lambda t: t.min_spend)]
        if after not in ladder or (before is not None and before not in ladder):
            return False
        return before is None or ladder.index(after) > ladder.index(before)

    def line_is_eligible(self, sku: Optional[str], categories, gift_card: bool) -> bool:
        if gift_card and self.exclude_gift_cards:
            return False
        if sku and sku in self.excluded_skus:
            return False
        return not any(c in self.excluded_categories for c in categories)

    def redemption_value_minor(self, points: int, exponent: int) -> int:
        return to_minor(self.point_value * points, exponent)
