"""Points that lapse, lapse (issue 16, item 1): whatever order redemptions, releases of unused
codes, late orders and expiry runs come in, no point outlives its lot's expiry.

The expiry job reads the lots index by expiry day, from its last completed day on
(services/lifecycle/job_days.py); the model below does the same, so a lot stored with an
expiry day the job has already passed (the old release of a lapsed portion) stays forever and
the final check fails."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.account import Account, InsufficientPoints
from chalicelib.domain.loyalty.lapse import SETTLED_AFTER, has_lapsed
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty.rules import Program, apply_order, apply_refund
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine, Refund, RefundLine
from tests.support.examples import examples

UTC = timezone.utc
START = datetime(2031, 3, 14, 9, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=examples(150), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RULES = ProgramRules(min_redeem_points=1, points_validity_months=1)
ZONES = ("Europe/Kyiv", "Pacific/Kiritimati", "America/St_Johns", "UTC")
KYIV = "Europe/Kyiv"


class DailyExpiryJob:
    """What services/lifecycle/expiry.py sees: lots by the UTC day of their expiry instant, from its
    last completed day, which it sets SETTLED_AFTER behind the run (a lot lapses at the end of its
    last day on the shop's clock, up to a day and a half after that UTC day)."""

    def __init__(self, zone: str):
        self.zone = zone
        self.last_day = None

    def run(self, account: Account, now: datetime) -> None:
        start = self.last_day or (now - timedelta(days=400)).date()
        due = [lot for lot in account.lots if start <= lot.expires_at.astimezone(UTC).date() <= now.date()
               and has_lapsed(lot.expires_at, self.zone, now)]
        if due:
            # expire_due expires every lapsed lot of an account the index named
            account.expire_due(now, self.zone)
        self.last_day = (now - SETTLED_AFTER).date()


def _order(order_id: str, paid_at: datetime, amount_minor: int) -> Order:
    return Order(order_id=order_id, name=f"#{order_id}", customer=CustomerFacts(), currency="EUR", paid=True,
                 paid_at=paid_at, lines=(OrderLine(line_id="L1", quantity=1, paid_minor=amount_minor),))


operations = st.lists(st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 400), st.integers(1, 60)),         # points, valid days
    st.tuples(st.just("redeem"), st.integers(1, 400), st.just(0)),
    st.tuples(st.just("release"), st.integers(0, 10), st.just(0)),             # which open code
    st.tuples(st.just("late_order"), st.integers(100, 90000), st.integers(0, 90)),  # minor, days ago
    st.tuples(st.just("wait"), st.integers(1, 50), st.integers(0, 23)),          # days, hours
    st.tuples(st.just("job"), st.just(0), st.just(0)),
), max_size=30)


@SETTINGS
@given(ops=operations, zone=st.sampled_from(ZONES))
def test_no_point_outlives_its_lot_whatever_the_sequence(ops, zone):
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    job, now, open_codes = DailyExpiryJob(zone), START, []
    program = Program(RULES, 2, zone)
    for n, (op, a, b) in enumerate(ops):
        lots_before = {lot.lot_id for lot in account.lots}
        if op == "earn":
            account.earn(a, lot_id=f"bonus{n}", cause=f"bonus:{n}", now=now, expires_at=now + timedelta(days=b))
        elif op == "redeem":
            try:
                open_codes.append(account.redeem(min(a, max(account.points_balance, 1)), cause=f"code:{n}",
                                                 now=now, rules=RULES, zone=zone))
            except InsufficientPoints:
                pass
        elif op == "release" and open_codes:
            account.release(open_codes.pop(a % len(open_codes)), cause=f"code-expired:{n}", now=now, zone=zone)
        elif op == "late_order":
            apply_order(_order(f"O{n}", now - timedelta(days=b), a), OrderRecord("shop", f"O{n}"),
                        account, program, now)
        elif op == "wait":
            now += timedelta(days=a, hours=b)
        elif op == "job":
            job.run(account, now)
        # No operation creates a lot that has already lapsed: the job would never look at its day.
        assert not any(has_lapsed(lot.expires_at, zone, now) for lot in account.lots if lot.lot_id not in lots_before)
        assert account.points_balance == sum(e.points for e in account.new_entries)
        assert account.points_balance == sum(lot.points for lot in account.lots) - account.points_debt
    # Every code left unused comes back; then, long after the last expiry, daily runs leave nothing.
    while open_codes:
        account.release(open_codes.pop(), cause=f"code-expired:end{len(open_codes)}", now=now, zone=zone)
    for _ in range(3):
        now += timedelta(days=40)
        job.run(account, now)
    assert account.points_balance <= 0 and not account.lots


def test_released_points_of_a_lapsed_lot_lapse_on_release():
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    account.earn(300, lot_id="order-1", cause="order:1", now=START, expires_at=START + timedelta(days=10))
    taken = account.redeem(300, cause="code:PTS-1", now=START + timedelta(days=9), rules=RULES, zone=KYIV)
    account.release(taken, cause="code-expired:PTS-1", now=START + timedelta(days=40), zone=KYIV)

    assert account.points_balance == 0 and account.lots == []
    release, expire = account.new_entries[-2:]
    assert (release.kind, release.points) == ("release", 300)
    assert (expire.kind, expire.points) == ("expire", -300)
    assert expire.detail["expired_lots"][0]["lot_id"] == "order-1"
    with __import__("pytest").raises(InsufficientPoints):
        account.redeem(300, cause="code:PTS-2", now=START + timedelta(days=400), rules=RULES, zone=KYIV)


def test_a_release_keeps_what_is_still_valid_and_lapses_the_rest():
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    account.earn(100, lot_id="a", cause="bonus:a", now=START, expires_at=START + timedelta(days=5))
    account.earn(200, lot_id="b", cause="bonus:b", now=START, expires_at=START + timedelta(days=50))
    taken = account.redeem(250, cause="code:PTS-1", now=START, rules=RULES, zone=KYIV)
    account.release(taken, cause="code-expired:PTS-1", now=START + timedelta(days=20), zone=KYIV)
    assert account.points_balance == 200
    assert {lot.expires_at for lot in account.lots} == {START + timedelta(days=50)}
    assert sum(lot.points for lot in account.lots) == 200


def test_an_order_paid_after_its_points_lapsed_credits_none_and_a_refund_takes_none():
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    account.earn(50, lot_id="bonus", cause="bonus:1", now=START, expires_at=START + timedelta(days=300))
    record = OrderRecord("shop", "OLD")
    rules = ProgramRules(earn_rate=1, points_validity_months=12)
    outcome = apply_order(_order("OLD", START - timedelta(days=400), 30000), record, account, Program(rules, 2, KYIV), START)

    assert outcome.points_earned == 0 and account.points_balance == 50
    assert account.lifetime_spend_minor == 30000 and account.orders_count == 1
    earn = account.new_entries[-1]
    assert earn.kind == "earn" and earn.points == 0 and earn.detail["lapsed_points"] == 300
    apply_refund(Refund("R1", "OLD", lines=(RefundLine("L1", 1),)), record, account, Program(rules, 2, KYIV), START)
    assert account.points_balance == 50 and account.points_debt == 0


def test_an_old_order_whose_points_are_still_valid_earns_them_with_their_own_expiry():
    account = Account(shop_id="shop", customer_id="c1", created_at=START, lots=[])
    rules = ProgramRules(earn_rate=1, points_validity_months=12)
    apply_order(_order("OLD", START - timedelta(days=200), 30000), OrderRecord("shop", "OLD"), account,
                Program(rules, 2, KYIV), START)
    assert account.points_balance == 300
    assert account.lots[0].expires_at.date() == (START - timedelta(days=200)).replace(year=2031).date()
