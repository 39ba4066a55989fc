"""A marketing campaign: what goes to whom, when, and how far the sending has got.

The life of a campaign::

    scheduled ──(send time reached, claimed)──▶ sending ──(last page queued)──▶ done
        │  ▲                                      │
        │  └──────────── resume ◀── paused ◀──────┘ pause (a done one resumes to done)
        └──────────────▶ cancelled ◀──────────────┘ (from scheduled, sending or paused)

While sending, the position in the segment (directory shard and cursor) is the
checkpoint: a sender that dies resumes from the last page it fully queued, and
the per-recipient idempotency key makes the re-queued page harmless.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from zoneinfo import ZoneInfo

from chalicelib.domain.campaigns import ab_test, local_time

NO_TEST = -1  # variant_for: the campaign is no A/B test (everyone gets its one version)

SCHEDULED, SENDING, PAUSED, CANCELLED, DONE, STOPPED = "scheduled", "sending", "paused", "cancelled", "done", "stopped"
# Too many failures stop a campaign: at least this many, and at least this share of the outcomes.
STOP_AFTER_FAILURES = 20
STOP_AT_FAILURE_RATE = 0.10
LEASE = timedelta(minutes=5)  # a sender holds a campaign this long without renewing before another may take it

_TRANSITIONS = {
    # A done campaign has queued everyone, but its e-mails may still be on their way:
    # pausing or cancelling it holds or drops those still queued.
    "pause": ({SCHEDULED, SENDING, DONE}, PAUSED),
    "resume": ({PAUSED, STOPPED}, SCHEDULED),
    "cancel": ({SCHEDULED, SENDING, PAUSED, STOPPED, DONE}, CANCELLED),
}


class InvalidTransition(Exception):
    pass


@dataclass
class Campaign:
    campaign_id: str
    shop_id: str
    name: str
    template: str
    segment: dict
    send_at: datetime
    data: dict = field(default_factory=dict)
    # {"codes": "shared" | "per_customer", "discount_percent", "free_shipping", "valid_from", "valid_until"}
    offer: Optional[dict] = None
    # The share (0–50 %) of sendable recipients kept back to measure the campaign's lift (domain/campaigns/lift.py).
    holdout_percent: int = 0
    # An A/B test (domain/campaigns/ab_test.py): up to four variants of its words, and
    # {"test_percent", "winner_by", "wait_hours"}; the phase ("test", then "rest") and, once decided, the winner.
    variants: list = field(default_factory=list)
    ab_test: Optional[dict] = None
    ab_phase: Optional[str] = None
    winner: Optional[dict] = None
    # Sent at this wall-clock time (naive) on each recipient's own clock (domain/campaigns/local_time.py),
    # in passes: those up to ``released_until`` are queued; the running pass covers up to ``pass_until``
    # and notes the earliest instant still ahead in ``next_release``. None: at ``send_at`` for everyone.
    local_send_at: Optional[datetime] = None
    released_until: Optional[datetime] = None
    pass_until: Optional[datetime] = None
    next_release: Optional[datetime] = None
    status: str = SCHEDULED
    shard: int = 0
    cursor: Optional[str] = None
    queued: int = 0
    pages: int = 0
    lease_until: Optional[datetime] = None
    created_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    version: int = 0

    def apply(self, action: str, now: datetime) -> None:
        allowed, target = _TRANSITIONS[action]
        if self.status not in allowed:
            raise InvalidTransition(f"a {self.status} campaign cannot {action}")
        self.status = target
        self.lease_until = None
        if action == "resume" and self.finished_at is not None:
            # Paused after every recipient was queued (to hold mail still queued): done again. Going
            # through the segment once more mailed whoever had joined it since.
            self.status = DONE
        elif action == "resume":
            self.send_at = max(self.send_at, now)

    def is_due(self, now: datetime) -> bool:
        if self.status == SCHEDULED:
            return self.send_at <= now
        return self.status == SENDING and (self.lease_until is None or self.lease_until <= now)

    def claim(self, now: datetime) -> None:
        """Take the campaign for sending (the store commits this on the version read)."""
        if not self.is_due(now):
            raise InvalidTransition(f"the campaign is {self.status} and not due")
        self.status = SENDING
        self.lease_until = now + LEASE

    def page_queued(self, recipients: int, shard: int, cursor: Optional[str], now: datetime) -> None:
        self.queued += recipients
        self.pages += 1
        self.shard, self.cursor = shard, cursor
        self.lease_until = now + LEASE

    def stop_if_failing(self, outcomes: dict[str, int]) -> bool:
        failed = outcomes.get("failed", 0)
        if failed >= STOP_AFTER_FAILURES and failed >= STOP_AT_FAILURE_RATE * sum(outcomes.values()):
            self.status = STOPPED
            self.lease_until = None
            return True
        return False

    @property
    def accepts_sends(self) -> bool:
        """Whether its queued messages may go out now (paused ones wait, stopped and cancelled ones drop)."""
        return self.status in (SCHEDULED, SENDING, DONE)

    def finish(self, now: datetime) -> None:
        self.status = DONE
        self.finished_at = now
        self.lease_until = None

    @property
    def codes_per_customer(self) -> bool:
        return bool(self.offer) and self.offer.get("codes") == "per_customer"

    # -- A/B tests ---------------------------------------------------------------------------------
    @property
    def is_ab_test(self) -> bool:
        return len(self.variants) >= 2 and bool(self.ab_test)

    def variant_for(self, customer_id: str) -> Optional[int]:
        """The variant this recipient gets now; None: not in this phase (or no A/B test: ``NO_TEST``)."""
        if not self.is_ab_test:
            return NO_TEST
        tested = ab_test.in_test(self.campaign_id, customer_id, self.ab_test["test_percent"])
        if self.ab_phase == "rest":
            return None if tested else self.winner["variant"]
        return ab_test.test_variant(self.campaign_id, customer_id, len(self.variants)) if tested else None

    # -- sending at the local time ----------------------------------------------------------------
    def begin_pass(self, now: datetime) -> None:
        """A local-time pass covers the recipients whose wall time has come by now (kept if a pass
        was under way: a resumed pass covers the same people)."""
        if self.local_send_at is not None and self.pass_until is None:
            self.pass_until = now

    def due_in_this_pass(self, zone: ZoneInfo) -> bool:
        """Whether a recipient on ``zone``'s clock is queued in this pass (else an earlier or a later one has them)."""
        if self.local_send_at is None:
            return True
        instant = local_time.instant_of(self.local_send_at, zone)
        decision = local_time.pass_decision(instant, self.released_until, self.pass_until)
        if decision == "later":
            self.next_release = instant if self.next_release is None else min(self.next_release, instant)
        return decision == "due"

    def pass_done(self) -> bool:
        """The pass reached the segment's end: True when another pass is due later (the campaign waits
        for it), False when every zone is queued."""
        if self.local_send_at is None or self.next_release is None:
            return False
        self.released_until, self.pass_until = self.pass_until, None
        self.status, self.send_at, self.next_release = SCHEDULED, self.next_release, None
        self.shard, self.cursor, self.lease_until = 0, None, None
        return True

    def test_sent(self, now: datetime) -> None:
        """The test share is queued: wait for the results, then go through the segment again for the rest."""
        self.ab_phase = "rest"
        self.status = SCHEDULED
        self.send_at = now + timedelta(hours=self.ab_test["wait_hours"])
        self.shard, self.cursor, self.lease_until = 0, None, None

    def message(self, customer_id: str, now: datetime, code: Optional[str] = None,
                variant: Optional[int] = NO_TEST) -> dict:
        """The send-queue message of one recipient; its key makes it at most once per customer."""
        data = dict(self.data)
        extra = {}
        if variant is not None and variant != NO_TEST:
            words = self.variants[variant]
            data.update({k: words[k] for k in ab_test.BODY_FIELDS if words.get(k)})
            overrides = {k: words[k] for k in ("subject", "preheader") if words.get(k)}
            extra["variant"] = variant
            if overrides:
                extra["variant_copy"] = overrides
        if code:
            data["code"] = code
        return {
            "idempotency_key": f"campaign:{self.campaign_id}:{customer_id}",
            "shop_id": self.shop_id, "customer_id": customer_id, "template": self.template,
            "category": "marketing", "campaign_id": self.campaign_id, "created_at": now.isoformat(),
            "utm_campaign": self.name, "data": data, **({"holdout_percent": self.holdout_percent} if self.holdout_percent else {}), **extra,
        }
