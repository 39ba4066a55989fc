"""A date-triggered flow: the shop saves a birthday flow (its own words in English and Ukrainian,
a 15 % code), two customers order (one in Kyiv, one shipping to New York) and give their
birthday, the daily job runs over simulated days (twice on one day, then after two missed days),
and each customer gets the birthday mail once, at 09:00 of their own birthday in their own time
zone, however often the jobs run."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from devstack import samples
from devstack.scenarios import common
from devstack.scenarios.common import Stack, fresh_email, fresh_id

FLOW_ID = "birthday-gift"
FLOW = {
    "name": "Birthday gift", "enabled": True,
    "trigger": {"kind": "date", "date_field": "birthday", "offset_days": 0, "local_hour": 9},
    "steps": [{"type": "send", "link": "shop",
               "offer": {"discount_percent": "15", "valid_days": 7},
               "copy": {"en": {"subject": "Happy birthday! 15% off is yours this week",
                               "heading": "Happy birthday!",
                               "body": "Thank you for shopping with us. Here is a birthday gift: 15% off "
                                       "anything in the shop for the next seven days.",
                               "cta": "Choose your gift"},
                        "uk": {"subject": "З днем народження! Даруємо −15% на тиждень",
                               "heading": "З днем народження!",
                               "body": "Дякуємо, що ви з нами. Наш подарунок: знижка 15% на все в магазині "
                                       "протягом семи днів.",
                               "cta": "Обрати подарунок"}}}],
}


def set_birthday(stack: Stack, email: str, birthday) -> str:
    """The birthday as the shop's customer record would give it (the Shopify sample carries none)."""
    from chalicelib.services.retries import retry_on_conflict
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import Change

    shop = load_shop(stack.deps, stack.shop_id)
    customer_id = shop.customer_id_for(email)
    repo = stack.deps.repos.loyalty(stack.shop_id)

    def save():
        account = repo.load_account(customer_id)
        account.birthday = birthday
        repo.commit(Change(account=account), stack.deps.clock())
        return account

    account = retry_on_conflict(save)
    print(f"→ {email}: birthday {birthday:%d %B}, time zone {account.timezone or 'the shop’s (' + shop.timezone + ')'}",
          flush=True)
    return account.timezone or shop.timezone


def daily(stack: Stack, at: datetime, label: str) -> dict:
    """The daily job's date flows as they would run at ``at``."""
    from chalicelib.services.flows.dates import start_date_flows
    from chalicelib.services.shops.lookup import load_shop

    report = vars(start_date_flows(stack.deps, load_shop(stack.deps, stack.shop_id), at))
    days = sorted({day for days in report.pop("days").values() for day in days})
    print(f"→ daily job at {label} ({at:%Y-%m-%d %H:%M} UTC): {report}, days looked at {days[0]}…{days[-1]}",
          flush=True)
    return report


def held_until(stack: Stack, zone: ZoneInfo) -> None:
    """Why a queued mail is not out yet: the send path holds marketing mail in the customer's quiet
    hours, judged by the stack's real clock (the scenario's days are simulated, the sending is not)."""
    from chalicelib.domain.mail.quiet_hours import next_allowed
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(stack.deps, stack.shop_id)
    real_now = datetime.now(timezone.utc)
    allowed = next_allowed(real_now, zone, shop.quiet_hours)
    if allowed > real_now:
        print(f"(queued; the stack's real clock says {real_now.astimezone(zone):%H:%M} in {zone.key}, inside the "
              f"shop's quiet hours: the send path holds it until {allowed.astimezone(zone):%H:%M} there)", flush=True)


def main() -> None:
    common.MAIL_WAIT_SECONDS = 120  # a loaded machine's queue worker may take a while
    stack = Stack()
    flow = stack.admin("GET", f"/admin/shops/{stack.shop_id}/flow-definitions/{FLOW_ID}") \
        if FLOW_ID in {f["flow_id"] for f in stack.admin("GET", f"/admin/shops/{stack.shop_id}/flow-definitions")["flows"]} \
        else {"version": 0}
    saved = stack.admin("PUT", f"/admin/shops/{stack.shop_id}/flow-definitions/{FLOW_ID}",
                        {**FLOW, "version": flow["version"]})
    print(f"→ flow {FLOW_ID!r} saved: trigger {saved['trigger']}, steps {[s['type'] for s in saved['steps']]}")

    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    birthday = (now + timedelta(days=4)).date()
    kyiv, new_york = fresh_email("oksana.hnatiuk"), fresh_email("jane.doe")
    for email, name, locale in ((kyiv, "Oksana", "uk"), (new_york, "Jane", "en")):
        payload = samples.sample_order_payload("shopify", order_id=fresh_id(), email=email, first_name=name,
                                               locale=locale, created_at=now - timedelta(days=30))
        if email == new_york:
            payload["shipping_address"] = {**payload["shipping_address"], "address1": "350 5th Ave",
                                           "city": "New York", "zip": "10118", "province_code": "NY",
                                           "country": "United States", "country_code": "US"}
        stack.webhook("shopify", payload, topic="orders/paid", label=f"orders/paid, {email}")
    stack.new_mail(2, [kyiv, new_york])  # the order thank-yous (not this scenario's subject)
    zones = {kyiv: ZoneInfo(set_birthday(stack, kyiv, birthday.replace(year=1991))),
             new_york: ZoneInfo(set_birthday(stack, new_york, birthday.replace(year=1988)))}

    nine = {email: datetime.combine(birthday, time(9), tzinfo=zone).astimezone(timezone.utc)
            for email, zone in zones.items()}
    daily(stack, now, "today, the flow's first pass")
    daily(stack, now + timedelta(days=1), "day 1")
    daily(stack, now + timedelta(days=1, hours=1), "day 1, an hour later")
    # Days 2 and 3 are missed (the job was down); day 4 catches up.
    daily(stack, datetime.combine(birthday, time(1), tzinfo=timezone.utc), "day 4, after two missed days")
    daily(stack, datetime.combine(birthday, time(2), tzinfo=timezone.utc), "day 4, again")
    for email in sorted(nine, key=nine.get):
        stack.run_flows(nine[email] - timedelta(minutes=1), f"08:59 of the birthday in {zones[email].key}")
        stack.run_flows(nine[email], f"09:00 of the birthday in {zones[email].key}")
        stack.run_flows(nine[email] + timedelta(minutes=5), "the schedule again")
        mails = stack.new_mail(1, [email])
        stack.print_mail(mails)
        if not mails:
            held_until(stack, zones[email])
    daily(stack, datetime.combine(birthday + timedelta(days=1), time(9), tzinfo=timezone.utc), "the day after")
    stack.run_flows(datetime.combine(birthday + timedelta(days=1), time(12), tzinfo=timezone.utc), "the day after")
    stack.print_mail(stack.new_mail(0, [kyiv, new_york]))
    stack.funnel(FLOW_ID)


if __name__ == "__main__":
    main()
