"""A customer's loyalty account: point lots, debt, cashback wallet, spend.

The account is the consistency boundary: every change to it goes through a
method here that appends a ledger entry, so the balance is always the sum of the
entries. The repository persists what changed (new entries, saved and removed
lots, the totals) in one conditional write keyed on ``version``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Optional

from chalicelib.domain.loyalty import tier_window
from chalicelib.domain.loyalty.lapse import Zone, has_lapsed, lapsed_points, lapses_at
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.months import add_months  # noqa: F401  (re-exported: long imported from here)


class InsufficientPoints(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Lot:
    lot_id: str
    points: int
    earned_at: datetime
    expires_at: datetime
    source: str
    # Expiry warnings already sent for this lot, by days-before-expiry.
    warned: frozenset[int] = frozenset()


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str
    kind: str  # earn | reverse | redeem | release | expire | adjust | bonus | cashback
    points: int
    cashback_minor: int
    spend_minor: int
    cause: str
    created_at: datetime
    detail: dict = field(default_factory=dict)


@dataclass
class Account:
    shop_id: str
    customer_id: str
    created_at: datetime
    email: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    locale: Optional[str] = None
    marketing_consent: Optional[bool] = None
    birthday: Optional[date] = None
    platform_customer_ids: set[str] = field(default_factory=set)
    facts_updated_at: Optional[datetime] = None
    redacted: bool = False
    # The customer's own clock (IANA zone) from their last order's address (domain/places/zones.py);
    # None: the shop's. Campaigns planned in local time and quiet hours go by it.
    timezone: Optional[str] = None

    points_balance: int = 0
    points_debt: int = 0
    cashback_minor: int = 0
    lifetime_spend_minor: int = 0
    # Spend by paid day within the rolling tier window (chalicelib.domain.loyalty.tier_window).
    spend_by_day: dict[date, int] = field(default_factory=dict)
    orders_count: int = 0
    last_order_at: Optional[datetime] = None
    # The year of the last birthday bonus and the last-order day of the last
    # win-back: each is given once (per year, per lapse).
    birthday_bonus_year: Optional[int] = None
    winback_for_order_at: Optional[datetime] = None
    tier_name: Optional[str] = None
    discount_percent: str = "0"
    # Rolling tier period: the day the tier review job looks at this account
    # (chalicelib.domain.loyalty.tier_risk.review_day) and the drop date already warned about.
    tier_review_on: Optional[date] = None
    tier_risk_warned_for: Optional[str] = None
    # What the customer has bought (for segments), each capped at BOUGHT_CAP values.
    bought_skus: set[str] = field(default_factory=set)
    bought_categories: set[str] = field(default_factory=set)
    # The rest of the program (chalicelib.domain.loyalty.referrals, membership, achievements).
    referral_code: Optional[str] = None
    referred_by: Optional[str] = None  # the referrer's customer id, once a referral was accepted
    address_keys: set[str] = field(default_factory=set)  # normalized shipping addresses (fraud checks)
    signup_bonus_given: bool = False
    reviews_count: int = 0
    achievements: set[str] = field(default_factory=set)
    member_until: Optional[datetime] = None
    # Membership orders: order id → {"line_id", "months"}, so a refund ends exactly what it bought.
    member_orders: dict[str, dict] = field(default_factory=dict)
    member_shipping_code: Optional[str] = None
    member_plan: Optional[str] = None  # the SKU of the plan bought last (None: bought before plans)
    member_reminded_for: Optional[str] = None  # the member_until already reminded about
    member_remind_on: Optional[date] = None  # the reminder's day (indexed while due)
    membership_changed: bool = False
    # Campaigns and flows (``campaign:{id}``, ``flow:{template}``) this customer has converted
    # for: a campaign's conversion rate counts converting recipients, not orders.
    converted_subjects: set[str] = field(default_factory=set)

    version: int = 0
    # The tier and last order as stored when the account was read (the dashboard counts
    # members joining or leaving and first orders of a day from the difference).
    stored_tier_name: Optional[str] = None
    stored_last_order_at: Optional[datetime] = None
    # None when the lots were not loaded: earning does not need them, spending does.
    lots: Optional[list[Lot]] = None

    new_entries: list[LedgerEntry] = field(default_factory=list)
    saved_lots: dict[str, Lot] = field(default_factory=dict)
    removed_lots: dict[str, Lot] = field(default_factory=dict)
    new_platform_customer_ids: set[str] = field(default_factory=set)

    @property
    def is_new(self) -> bool:
        return self.version == 0

    @property
    def has_changes(self) -> bool:
        return bool(self.new_entries)

    def erase_personal_data(self) -> None:
        """GDPR erasure: who the customer is goes; the anonymous totals stay."""
        self.email = self.first_name = self.last_name = self.locale = self.timezone = None
        self.birthday = None
        self.marketing_consent = False
        self.platform_customer_ids = set()
        self.redacted = True

    def forfeit_for_erasure(self, now: datetime) -> None:
        """Erasure (GDPR customers/redact) takes what the customer held with who they were: one
        ``erase`` entry zeroes the balance and wallet (the shop's dashboard counts one customer
        fewer and its outstanding points drop by exactly that), and nothing schedules them
        again. The account is deleted after."""
        platform_ids = set(self.platform_customer_ids)
        self.erase_personal_data()
        self.platform_customer_ids = platform_ids  # until the deletion: they name the rows to delete with it
        self._record("erase", -self.points_balance, "erasure", now, cashback_minor=-self.cashback_minor)
        self.points_balance = self.points_debt = self.cashback_minor = 0
        self.tier_name, self.discount_percent = None, "0"
        self.last_order_at = self.tier_review_on = self.member_remind_on = None

    # -- points -----------------------------------------------------------
    def earn(self, points: int, *, lot_id: str, cause: str, now: datetime, expires_at: datetime,
             kind: str = "earn", spend_minor: int = 0, detail: Optional[dict] = None) -> None:
        """Credit points; outstanding debt from earlier reversals is paid first."""
        if points < 0:
            raise ValueError("earned points cannot be negative")
        if points == 0 and spend_minor == 0:
            return
        self._record(kind, points, cause, now, spend_minor=spend_minor, detail=detail)
        self._credit(Lot(lot_id, points, now, expires_at, cause))

    def reverse(self, points: int, *, cause: str, now: datetime, prefer_lot_id: Optional[str] = None,
                cashback_minor: int = 0, spend_minor: int = 0, detail: Optional[dict] = None) -> None:
        """Take back points (and cashback); what is already spent becomes debt."""
        if points < 0 or cashback_minor < 0:
            raise ValueError("reversed amounts are given as positive numbers")
        if points == 0 and cashback_minor == 0 and spend_minor == 0:
            return
        _, uncovered = self._take_portions(points, prefer_lot_id) if points else ([], 0)
        self.points_debt += uncovered
        self.points_balance -= points
        self.cashback_minor -= cashback_minor
        self._record("reverse", -points, cause, now, cashback_minor=-cashback_minor,
                     spend_minor=-spend_minor, detail=detail)

    def redeem(self, points: int, *, cause: str, now: datetime, rules: ProgramRules, zone: Zone,
               detail: Optional[dict] = None) -> list[Lot]:
        """Spend points, earliest-expiring first. Returns the portions taken.

        Lots whose last day (in ``zone``, the shop's) has passed lapse first, in the same change:
        the sweep may not have come by yet, and a lapsed lot is never spent. A refusal changes
        nothing."""
        balance = self.spendable_balance(now, zone)
        if self.points_debt > 0 or balance <= 0:
            raise InsufficientPoints(f"the balance is {balance}: redemption is blocked until it is positive")
        if points < rules.min_redeem_points:
            raise InsufficientPoints(f"at least {rules.min_redeem_points} points must be redeemed")
        if points > balance:
            raise InsufficientPoints(f"the balance is {balance} points, less than {points}")
        self.expire_due(now, zone)
        taken, _ = self._take_portions(points, None)
        self.points_balance -= points
        portions = [{"lot_id": lot.lot_id, "points": lot.points, "expires_at": lot.expires_at.isoformat(),
                     "earned_at": lot.earned_at.isoformat(), "source": lot.source} for lot in taken]
        self._record("redeem", -points, cause, now, detail={**(detail or {}), "lots": portions})
        return taken

    def spendable_balance(self, now: datetime, zone: Zone) -> int:
        """The balance without the lots that have lapsed and wait for the sweep (all of it when the
        lots were not loaded): what the storefront shows and a redemption may spend."""
        return self.points_balance - lapsed_points(self.lots or (), zone, now)

    def release(self, portions: list[Lot], *, cause: str, now: datetime, zone: Zone) -> None:
        """Give back the lots a redemption took (its code was never used), keeping their expiry.

        A portion whose lot lapsed while the code waited lapses now, in the same change (a
        ``release`` then an ``expire`` entry): stored as a lot, its expiry day would lie behind
        the days the expiry job still looks at, and the points would never lapse."""
        lapsed = [p for p in portions if has_lapsed(p.expires_at, zone, now)]
        for i, portion in enumerate(portions):
            if not has_lapsed(portion.expires_at, zone, now):
                self._credit(replace(portion, lot_id=f"{portion.lot_id}~{cause}~{i}"))
        self._record("release", sum(p.points for p in portions), cause, now)
        if lapsed:
            lapsed_points = sum(p.points for p in lapsed)
            # Lapsed points neither become redeemable nor pay debt: they come and go at once.
            self._record("expire", -lapsed_points, cause, now, detail={
                "expired_lots": [{"lot_id": p.lot_id, "points": p.points, "expires_at": p.expires_at.isoformat(),
                                  "lapsed_at": lapses_at(p.expires_at, zone).isoformat()} for p in lapsed]})

    def expire_due(self, now: datetime, zone: Zone) -> int:
        """Expire every lot whose last day (in ``zone``, the shop's: domain/loyalty/lapse.py) has
        passed; returns the points expired."""
        self._require_lots()
        expired = 0
        for lot in sorted(self.lots, key=lambda lot: (lot.expires_at, lot.lot_id)):
            if lot.points > 0 and has_lapsed(lot.expires_at, zone, now):
                self._record("expire", -lot.points, f"lot:{lot.lot_id}", now,
                             detail={"expires_at": lot.expires_at.isoformat(),
                                     "lapsed_at": lapses_at(lot.expires_at, zone).isoformat()})
                self.points_balance -= lot.points
                expired += lot.points
                self._remove_lot(lot)
        return expired

    def adjust(self, points: int, *, cause: str, now: datetime, expires_at: datetime, reason: str) -> None:
        """A manual correction by the shop, positive or negative."""
        if points >= 0:
            self.earn(points, lot_id=f"adjust-{cause}", cause=cause, now=now, expires_at=expires_at,
                      kind="adjust", detail={"reason": reason})
        else:
            self.reverse(-points, cause=cause, now=now, detail={"reason": reason})
            self.new_entries[-1] = replace(self.new_entries[-1], kind="adjust")

    def mark_expiry_warned(self, lot_ids: list[str], days_before: int) -> None:
        """Remember that a warning went out for these lots (not a balance change: no entry)."""
        self._require_lots()
        for lot in [lot for lot in self.lots if lot.lot_id in set(lot_ids)]:
            self._save_lot(replace(lot, warned=lot.warned | {days_before}))

    # -- cashback and spend ----------------------------------------------
    def credit_cashback(self, minor: int, *, cause: str, now: datetime) -> None:
        if minor <= 0:
            return
        self.cashback_minor += minor
        self._record("cashback", 0, cause, now, cashback_minor=minor)

    def debit_cashback(self, minor: int, *, kind: str, cause: str, now: datetime,
                       detail: Optional[dict] = None) -> None:
        """Take money out of the wallet (a withdrawal put on hold, a cashback code); never below zero."""
        if minor <= 0:
            raise InsufficientPoints("the amount must be positive")
        if minor > self.cashback_minor:
            raise InsufficientPoints(f"the cashback balance is {self.cashback_minor} (minor units), less than {minor}")
        self.cashback_minor -= minor
        self._record(kind, 0, cause, now, cashback_minor=-minor, detail=detail)

    def return_cashback(self, minor: int, *, kind: str, cause: str, now: datetime,
                        detail: Optional[dict] = None) -> None:
        """Money back into the wallet (a rejected withdrawal, an unused cashback code)."""
        self.cashback_minor += minor
        self._record(kind, 0, cause, now, cashback_minor=minor, detail=detail)

    def note(self, kind: str, cause: str, now: datetime, detail: Optional[dict] = None) -> None:
        """A ledger entry that moves nothing (a withdrawal paid out from its hold)."""
        self._record(kind, 0, cause, now, detail=detail)

    def mark_converted(self, subject: str) -> bool:
        """Remember a conversion for ``subject``; True when it is this customer's first for it."""
        if subject in self.converted_subjects:
            return False
        self.converted_subjects = add_capped(self.converted_subjects, [subject], cap=CONVERTED_CAP)
        return True

    def is_member(self, now: datetime) -> bool:
        return self.member_until is not None and self.member_until > now

    def add_spend(self, paid_day: Optional[date], minor: int, now: datetime) -> None:
        """Count spend (negative: take it back) on the day its order was paid (unknown for
        records older than day counting and month buckets: lifetime spend only)."""
        self.lifetime_spend_minor += minor
        if paid_day is not None:
            tier_window.add_to_bucket(self.spend_by_day, paid_day, minor, now.date())

    def tier_spend(self, rules: ProgramRules, now: datetime) -> int:
        if rules.tier_period == "lifetime":
            return self.lifetime_spend_minor
        return tier_window.window_spend(self.spend_by_day, now.date())

    def refresh_tier(self, rules: ProgramRules, now: datetime, exponent: int, note: bool = True) -> bool:
        """The tier the spend earns now; True when a change of tier was written down. A change of
        tier is written with the change that made it, so the customer's timeline shows their tier
        history: as ``detail["tier"]`` (from, to) of the change's last ledger entry (the order's
        earn, the refund's reversal), or, when the change has no entry of its own (the daily review
        dropping a tier), as a ``tier`` entry moving nothing. ``note=False``: a change that moved no
        spend (a platform's retry, a refund waiting for its order) only keeps the tier current;
        what time alone changed is the daily review's to write down."""
        standing = rules.standing(self.tier_spend(rules, now), exponent)
        tier = standing.tier.name if standing.tier else None
        noted = note and tier != self.tier_name
        if noted:
            moved = {"from": self.tier_name, "to": tier}
            if self.new_entries:
                last = self.new_entries[-1]
                self.new_entries[-1] = replace(last, detail={**last.detail, "tier": moved})
            else:  # unique per account (entry ids are): a tier can be lost and won back
                self.note("tier", f"to:{tier or 'none'}@{now.isoformat()}", now, detail={"tier": moved})
        self.tier_name = tier
        self.discount_percent = str(standing.discount_percent)
        return noted

    def record_bought(self, skus, categories) -> None:
        """Remember an order's SKUs and categories (for segments); see ``add_capped``."""
        self.bought_skus = add_capped(self.bought_skus, skus)
        self.bought_categories = add_capped(self.bought_categories, categories)

    def prune_spend_days(self, now: datetime) -> None:
        """Days that left the tier window matter only to lifetime spend."""
        tier_window.prune(self.spend_by_day, now.date())

    # -- internals ---------------------------------------------------------
    def _record(self, kind: str, points: int, cause: str, now: datetime, *, cashback_minor: int = 0,
                spend_minor: int = 0, detail: Optional[dict] = None) -> None:
        self.new_entries.append(LedgerEntry(
            entry_id=f"{kind}:{cause}", kind=kind, points=points, cashback_minor=cashback_minor,
            spend_minor=spend_minor, cause=cause, created_at=now, detail=dict(detail or {})))

    def _require_lots(self) -> None:
        if self.lots is None:
            raise RuntimeError("this change needs the account's lots loaded")

    def _credit(self, lot: Lot) -> None:
        to_debt = min(self.points_debt, lot.points)
        self.points_debt -= to_debt
        self.points_balance += lot.points
        if lot.points > to_debt:
            self._save_lot(replace(lot, points=lot.points - to_debt))

    def _save_lot(self, lot: Lot) -> None:
        if self.lots is not None:
            self.lots = [existing for existing in self.lots if existing.lot_id != lot.lot_id] + [lot]
        self.removed_lots.pop(lot.lot_id, None)
        self.saved_lots[lot.lot_id] = lot

    def _remove_lot(self, lot: Lot) -> None:
        self.lots = [existing for existing in self.lots if existing.lot_id != lot.lot_id]
        self.saved_lots.pop(lot.lot_id, None)
        self.removed_lots[lot.lot_id] = lot

    def _take_portions(self, points: int, prefer_lot_id: Optional[str]) -> tuple[list[Lot], int]:
        """Take points from the lots, the preferred one first, then earliest-expiring.

        Returns the portions taken and what the lots could not cover.
        """
        self._require_lots()
        order = sorted(self.lots, key=lambda lot: (lot.lot_id != prefer_lot_id, lot.expires_at, lot.lot_id))
        taken: list[Lot] = []
        for lot in order:
            if points == 0:
                break
            part = min(lot.points, points)
            points -= part
            taken.append(replace(lot, points=part))
            if part == lot.points:
                self._remove_lot(lot)
            else:
                self._save_lot(replace(lot, points=lot.points - part))
        return taken, points


BOUGHT_CAP = 200
# Conversions are attributed within days of a click: the recent subjects are the ones that count.
CONVERTED_CAP = 100


def add_capped(known: set[str], new, cap: int = BOUGHT_CAP) -> set[str]:
    """``known`` plus the non-empty values of ``new``, at most ``cap`` values: the new ones are
    always kept; older ones (stored as a set, so without order) make room in sorted order."""
    fresh = [v for v in dict.fromkeys(new) if v][:cap]
    older = sorted(v for v in known if v not in set(fresh))
    return set(fresh) | set(older[:max(cap - len(fresh), 0)])
