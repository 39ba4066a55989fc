"""A points expiry date in a mail is a date the ledger honours: the e-mail says the points are
valid until a day (on the shop's clock), and they are spendable to that day's end, not only to the
hour they were paid at. Fixed instants in 2031/2032 (paid in Kyiv's winter, lapsing in its summer),
on the in-memory store; nothing depends on today's date."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.errors import Conflict
from chalicelib.mail.formatting import formatter
from chalicelib.services.lifecycle.daily import run_daily
from chalicelib.services.lifecycle.expiry_warnings import send_expiry_warnings
from chalicelib.services.loyalty import storefront
from chalicelib.services.mail import mailer
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from devstack.samples import sample_order_payload
from tests.support.mail import RecordingMessenger
from tests.support.queues import drain_queue
from tests.support.shops import register_shop

KYIV = ZoneInfo("Europe/Kyiv")
EMAIL = "olena.koval@example.com"
PAID = datetime(2031, 12, 7, 14, 5, tzinfo=KYIV)  # the program's 6 months of validity follow
LAST_DAY = date(2032, 6, 7)
POINTS = 189  # the sample order: 3,799.00 UAH at 0.05 points per UAH


@pytest.fixture
def shop(memory_client, fake_deps):
    handle = register_shop(memory_client, "honest-dates", "shopify")  # Europe/Kyiv
    fake_deps.clock.set(PAID + timedelta(minutes=2))
    payload = sample_order_payload("shopify", order_id="7001", email=EMAIL, created_at=PAID)
    assert handle.deliver(payload, topic="orders/paid").status_code == 200
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])  # the thank-you mail
    return load_shop(fake_deps, handle.shop_id)


def _at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=KYIV).astimezone(timezone.utc)


def _spaced(text: str) -> str:
    """Babel's narrow no-break spaces as plain ones (a header may carry either)."""
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def _hourly(fake_deps, shop, moment: datetime) -> None:
    """The schedule comes by (the expiry sweep among its jobs), as it does every hour."""
    fake_deps.clock.set(moment)
    run_daily(fake_deps, moment, [shop.shop_id])


def test_the_expiry_mail_names_the_day_and_the_ledger_honours_that_whole_day(shop, fake_deps):
    warned_at = _at(LAST_DAY - timedelta(days=7), 10, 0)
    fake_deps.clock.set(warned_at)
    assert send_expiry_warnings(fake_deps, shop, warned_at).warnings_queued == 1
    (warning,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    messenger = RecordingMessenger()
    assert mailer.send_message(fake_deps, warning, messenger=messenger, now=warned_at)["status"] == "sent"
    (mail,) = messenger.messages()
    text, subject = _spaced(mail.get_body(("plain",)).get_content()), _spaced(str(mail["Subject"]))
    named = _spaced(formatter("uk", "UAH", 2, shop.timezone).date(LAST_DAY))  # "7 червня 2032 р."
    assert named in text and named in subject

    # That day at 23:30 in Kyiv, after the hourly sweep: the points are there and spendable.
    _hourly(fake_deps, shop, _at(LAST_DAY, 23, 30))
    view = storefront.customer_view(fake_deps, shop, EMAIL)
    assert view["points_balance"] == POINTS
    assert view["expiring"] == [{"points": POINTS, "valid_until": LAST_DAY.isoformat(),
                                 "expires_at": keys.iso(_at(LAST_DAY + timedelta(days=1), 0, 0))}]
    code = storefront.redeem_points(fake_deps, shop, EMAIL, {"points": 150})
    assert code["points_balance"] == POINTS - 150


def test_half_a_minute_into_the_next_day_the_points_are_gone_before_any_sweep(shop, fake_deps):
    # The last sweep came by that morning, before the hour the points were paid at (14:05).
    _hourly(fake_deps, shop, _at(LAST_DAY, 9, 0))
    fake_deps.clock.set(_at(LAST_DAY + timedelta(days=1), 0, 0, 30))
    view = storefront.customer_view(fake_deps, shop, EMAIL)
    assert (view["points_balance"], view["expiring"], view["redeemable"]) == (0, [], False)
    with pytest.raises(Conflict) as refused:
        storefront.redeem_points(fake_deps, shop, EMAIL, {"points": 150})
    assert "0" in str(refused.value)


def test_the_sweep_writes_the_lapse_at_the_start_of_the_next_day_in_the_shops_zone(shop, fake_deps):
    _hourly(fake_deps, shop, _at(LAST_DAY, 23, 59, 59))
    assert storefront.customer_view(fake_deps, shop, EMAIL)["points_balance"] == POINTS
    _hourly(fake_deps, shop, _at(LAST_DAY + timedelta(days=1), 0, 0, 30))
    history = storefront.customer_history(fake_deps, shop, EMAIL, None, None)["entries"]
    expire = history[0]
    assert (expire["kind"], expire["points"]) == ("expire", -POINTS)
    lapsed_at = datetime.fromisoformat(expire["detail"]["lapsed_at"])
    assert lapsed_at == _at(LAST_DAY + timedelta(days=1), 0, 0)
    assert datetime.fromisoformat(expire["detail"]["expires_at"]).astimezone(KYIV).date() == LAST_DAY


def test_a_redemption_code_works_to_the_end_of_the_day_its_expiry_names(shop, fake_deps):
    from chalicelib.services.loyalty.codes import check_code

    redeemed_at = _at(date(2032, 1, 10), 14, 5)
    fake_deps.clock.set(redeemed_at)
    issued = storefront.redeem_points(fake_deps, shop, EMAIL, {"points": 100})
    expires_at = datetime.fromisoformat(issued["expires_at"].replace("Z", "+00:00"))
    named = expires_at.astimezone(KYIV).date()  # what the reward_code mail shows (the shop's clock)
    assert named == date(2032, 1, 10) + timedelta(days=shop.program.redemption_code_validity_days)
    # A redemption code works until the hourly job gives its points back, once it has expired.
    _hourly(fake_deps, shop, _at(named, 23, 30))
    assert check_code(fake_deps, shop, issued["code"])["valid"] is True
    _hourly(fake_deps, shop, _at(named + timedelta(days=1), 0, 0, 30))
    assert check_code(fake_deps, shop, issued["code"])["reason"] == "the code was released"


def test_a_claim_link_works_to_the_end_of_the_day_its_mail_names(shop, fake_deps):
    # A campaign's valid_until given as a bare day reads as that day's first instant; the mail
    # says "claim by" that day, so the link works through it.
    request = mailer.SendRequest(idempotency_key="campaign:c1:x", shop_id=shop.shop_id, customer_id="c_x",
                                 template="special_day", category="marketing", campaign_id="c1",
                                 created_at=_at(date(2032, 6, 1), 10, 0).isoformat(),
                                 data={"claim_points": 50, "claim_until": "2032-06-20T00:00:00+03:00"})
    url = mailer.claim_url(fake_deps, shop, "c_x", request, "campaign:c1", _at(date(2032, 6, 1), 10, 0))
    link = fake_deps.tokens.read_tracked_link(url.rsplit("/", 1)[1])
    assert link.expires_at.astimezone(KYIV).date() == date(2032, 6, 20)
    assert link.expires_at >= _at(date(2032, 6, 20), 23, 59, 59)
