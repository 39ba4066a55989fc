"""Template contexts: a shop, an account and a template's ``data`` → what the template sees.

Every template gets the common part:

==============  =====================================================================
``template``    the template name
``locale``      the resolved locale: customer's → shop's ``default_locale`` → ``en``
``is_marketing`` True for ``MARKETING_TEMPLATES`` (the footer then shows "unsubscribe")
``shop``        ``name``, ``storefront_url``, ``logo_url``\\*, ``address``\\*, ``currency``,
                ``currency_exponent``, ``timezone``, ``default_locale``
``brand``       ``logo_url``\\* (the brand's, else ``shop.logo_url``), ``primary_color``,
                ``accent_color``, ``background_color``, ``text_color`` (#rrggbb),
                ``dark_button_color``, ``dark_link_color``, ``font_stack`` (from a fixed
                list), ``address_lines`` (else [``shop.address``]), ``social_links``
                [{``network``, ``label``, ``url``}]; defaults: the default templates' look
``customer``    ``first_name``\\* (the greeting falls back to "Hello!"), ``locale``
``links``       ``shop`` (the storefront unless given), ``preferences``, ``unsubscribe``
                (required for marketing, may be None on transactional mail), any other
                link the caller gives
``account``     ``points_balance``, ``balance_value_minor`` (balance × point value),
                ``cashback_minor`` (wallet), ``tier``\\* (``account.tier_name``),
                ``discount_percent``, ``next_tier``\\*, ``next_tier_discount_percent``\\*,
                ``spend_to_next_minor``, ``tier_progress`` (4–100, for the bar),
                ``expiry``\\* {``points``, ``date``} (the earliest lots; None when
                ``account.lots`` is None or empty), ``min_redeem_points``,
                ``can_redeem``, ``points_to_redeem`` (missing to the minimum)
``program``     ``earn_points`` per ``earn_spend_minor`` (e.g. 1 point per 20 UAH),
                ``point_value_minor``, ``min_redeem_points``, ``validity_months``,
                ``tiers`` [{``name``, ``min_spend_minor``, ``discount_percent``}]
==============  =====================================================================

\\* may be None. Money is always integer minor units; dates are aware datetimes or dates.

The ``data`` of each template (required keys in **bold**) and what it adds:

===================  ===============================================================  =====================
template             data                                                             adds to the context
===================  ===============================================================  =====================
post_purchase        **order_name**, **order_id**, **items** [{title, quantity,        ``order`` {name, id,
                     total_minor}], **points_earned**, cashback_minor (0),            lines, subtotal_minor\\*,
                     status_url, receipt (see below), total_minor (without a          discount_minor,
                     receipt: the total shown; none given, none shown),               discount_codes,
                     recommendations (see below)                                      shipping_minor\\*, fees,
                                                                                      tax_added_minor\\*,
                                                                                      tax_included_minor\\*,
                                                                                      total_minor\\*,
                                                                                      currency\\*,
                                                                                      status_url},
                                                                                      ``recommendations``
                                                                                      ``points_earned``,
                                                                                      ``cashback_earned_minor``
points_expiring      points, expires_at (default: the account's earliest lots)        ``expiring`` {points,
                                                                                      date, value_minor}
special_day          **title**, **starts_at**, **ends_at**, free_shipping (False),     ``special`` {title,
                     min_order_minor, description, url (storefront), code,            starts_at, ends_at,
                     discount_percent, code_value_minor, code_expires_at (ends_at),   free_shipping,
                     claim_points, claim_until (bonus points claimed on               min_order_minor,
                     ``links.claim``)                                                 description, url},
                                                                                      ``offer``, ``claim``
                                                                                      {points, until, url}
reward_code          **code**, **value_minor**, expires_at, points (spent), url       ``offer``, ``reward``
                                                                                      {points, url}
tier_upgrade         tier (default ``account.tier_name``), previous_tier               ``new_tier`` {name,
                                                                                      discount_percent,
                                                                                      previous}
referral_reward      points (0), cashback_minor (0), friend_first_name, share_url      ``referral``
                     (``links.referral`` or storefront), code, code_value_minor,      {friend_first_name,
                     discount_percent, code_expires_at; points, cashback or a code    points, cashback_minor,
                     is required                                                      share_url},
                                                                                      ``offer``
welcome              bonus_points (0)                                                 ``bonus_points``,
                                                                                      ``bonus_value_minor``
birthday             bonus_points (0), code, discount_percent, code_value_minor,      ``bonus_points``,
                     code_expires_at; bonus points or a code is required              ``offer``
winback              days_since_last_order (default: from ``account.last_order_at``), ``winback``
                     code, discount_percent, code_value_minor, code_expires_at,       {days_since_last_order},
                     recommendations (see below)                                      ``offer``,
                                                                                      ``recommendations``
achievement          **achievement** (orders, reviews or tier), threshold (1), tier     ``achievement`` {kind,
                     (for kind tier), points (0)                                      threshold, tier, points}
membership_reminder  member_until (default ``account.member_until``); the plan's terms  ``membership`` {until,
                     (default: plan_sku's, or the member's plan): plan_name, period,  plan_name, period,
                     free_shipping, extra_cashback_percent, exclusive_offers          free_shipping,
                                                                                      extra_cashback_percent,
                                                                                      exclusive_offers}
shipment_update      **stage** (shipped or delivered), **order_name**, order_id, carrier,   ``shipment`` {stage,
                     tracking [{number, url (http(s) only)}], points_earned (0: the   delivered, order_name,
                     order's points after refunds)                                    carrier, tracking},
                                                                                      ``points_earned``
flow_message         preset (second_purchase, review_request, checkout_reminder,          ``flow`` {subject,
                     checkout_last_call) or copy {locale: {subject, heading, body,     heading, body, cta,
                     cta}}, url (storefront), items [{title, quantity, total_minor}],  url, items,
                     recommendations [{title, url, price_minor}], free_shipping,      recommendations,
                     code, discount_percent, code_value_minor, code_expires_at        free_shipping},
                                                                                      ``offer``
personal_offer       **offer_name**, **products** [{title}], **code**, **code_expires_at**, ``personal`` {name,
                     discount_percent or code_value_minor, min_order_minor, url         products, url},
                     (storefront), offer_id                                          ``offer``
tier_at_risk         **tier**, **spend_needed_minor**, **by** (the last day a         ``at_risk`` {tier,
                     purchase still counts), next_lower_tier (the tier left after     discount_percent,
                     the drop; None: no tier)                                         spend_needed_minor,
                                                                                      by, lower_tier}
===================  ===============================================================  =====================

``recommendations`` (post_purchase, winback, flow_message) is None (no block at all) or up to six
[{``title``, ``url``, ``image_url``\\*, ``price_minor``\\*, ``reason`` (reorder or bought_with),
``product_id``\\*}]: links http(s) only; services/products/recommendations.py picks them.

``receipt`` (post_purchase) is the order's money rows as the platform states them
(domain/mail/outbox.py ``receipt_data``): **total_minor**, subtotal_minor (the items before
discounts; the items are then listed at those prices), discount_minor, discount_codes,
shipping_minor, fees [{name, amount_minor}], tax_minor with taxes_included (true: the tax is
said under the total; false: a row of its own), currency (the customer's, when not the shop's:
the items and rows are in it; ``order.currency``). A key left out is a row not shown. Without a
receipt (a message queued before it existed) the subtotal is the items' sum.

``offer`` is None or {``code``, ``discount_percent``, ``value_minor``, ``expires_at``, ``free_shipping``,
``min_order_minor``}: what the code gives, every word of it (a campaign copies it from its offer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from decimal import Decimal
from typing import Any, Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.loyalty import membership
from chalicelib.domain.loyalty.account import Account, Lot
from chalicelib.domain.loyalty.lapse import has_lapsed, last_day
from chalicelib.domain.loyalty.program import ProgramRules, Tier
from chalicelib.domain.shops.brand import FONT_STACKS, Brand
from chalicelib.domain.shops.shop import Shop
from chalicelib.mail.base import LOCALES, MARKETING_TEMPLATES, TEMPLATES, ContextError, resolve_locale
from chalicelib.domain.money import to_minor

_MISSING = object()


def build_context(template: str, *, shop: Shop, account: Account, data: dict, links: dict,
                  now: datetime) -> dict:
    """The context of ``template`` for one customer (see the module docstring for the keys)."""
    locale = resolve_locale(account.locale, shop.default_locale)
    if template not in TEMPLATES:
        raise ContextError(template, locale, None, f"unknown template; known: {', '.join(TEMPLATES)}")
    reader = _Data(template, locale, data or {}, shop.default_locale)
    marketing = template in MARKETING_TEMPLATES
    context = {
        "template": template,
        "locale": locale,
        "is_marketing": marketing,
        "shop": shop_context(shop),
        "brand": brand_context(shop),
        "customer": {"first_name": _clean(account.first_name), "locale": locale},
        "links": _links(reader, shop, links or {}, marketing),
        "account": account_context(shop, account, now),
        "program": program_context(shop.program, shop.currency_exponent),
    }
    context.update(_BUILDERS[template](reader, shop, account, now, context))
    if marketing:
        # A campaign's own subject and preheader (per locale), in place of the template's.
        context["copy"] = {"subject": reader.text("subject", default=None),
                           "preheader": reader.text("preheader", default=None)}
    reader.done()
    return context


def localized_text(value: dict, locale: str, default_locale: Optional[str]) -> Optional[str]:
    """The text of a per-locale value for ``locale``, falling back to the shop's default locale."""
    for candidate in (locale, default_locale):
        text = value.get(candidate) if candidate else None
        if isinstance(text, str) and text.strip():
            return text
    return None


# -- the common part -----------------------------------------------------------------
def shop_context(shop: Shop) -> dict:
    return {
        "name": shop.name or shop.storefront_url.split("://")[-1].split("/")[0],
        "storefront_url": shop.storefront_url,
        "logo_url": getattr(getattr(shop, "brand", None), "logo_url", None) or _clean(getattr(shop, "logo_url", None)),
        "address": _clean(getattr(shop, "address", None)),
        "currency": shop.currency,
        "currency_exponent": shop.currency_exponent,
        "timezone": shop.timezone,
        "default_locale": shop.default_locale,
    }


def brand_context(shop: Shop) -> dict:
    """What the shared layout shows of the shop's brand. Render-time data, never compiled into
    the MJML: one compiled template serves every shop. The colours are #rrggbb and the font
    stack comes from our own list (``domain/shops/brand.py``), so both may stand in a style
    attribute; the stack is marked safe only so its quotes are not escaped into ``&#39;``."""
    return brand_values(getattr(shop, "brand", None) or Brand(), getattr(shop, "logo_url", None),
                        getattr(shop, "address", None))


def brand_values(brand: Brand, logo_url: Optional[str] = None, address: Optional[str] = None) -> dict:
    """``brand`` as the templates see it; ``logo_url`` and ``address`` are the shop's own fields
    from before brands existed, used when the brand has none. The same for every recipient of a
    shop: made once per brand (a frozen value), each caller gets its own copy."""
    try:
        made = _brand_values_once(brand, logo_url, address)
    except TypeError:  # a brand holding lists where tuples belong cannot be a cache key
        return _brand_values(brand, logo_url, address)
    return {**made, "address_lines": list(made["address_lines"]),
            "social_links": [dict(link) for link in made["social_links"]]}


@lru_cache(maxsize=256)
def _brand_values_once(brand: Brand, logo_url: Optional[str], address: Optional[str]) -> dict:
    return _brand_values(brand, logo_url, address)


def _brand_values(brand: Brand, logo_url: Optional[str] = None, address: Optional[str] = None) -> dict:
    from markupsafe import Markup

    brand = brand.checked()
    lines = [line for line in (_clean(line) for line in brand.address_lines) if line]
    if not lines and _clean(address):
        lines = [_clean(address)]
    dark = brand.dark_mode()
    return {
        "logo_url": brand.logo_url or _clean(logo_url),
        "primary_color": brand.primary_color, "accent_color": brand.accent_color,
        "background_color": brand.background_color, "text_color": brand.text_color,
        "dark_button_color": dark["button"], "dark_link_color": dark["link"],
        "font_stack": Markup(FONT_STACKS.get(brand.font, FONT_STACKS["system"])),
        "address_lines": lines,
        "social_links": [{"network": link.network, "label": link.label, "url": link.url}
                         for link in brand.social_links],
    }


def _links(reader: "_Data", shop: Shop, links: dict, marketing: bool) -> dict:
    result = {key: value for key, value in links.items() if value}
    result.setdefault("shop", shop.storefront_url)
    if not result.get("preferences"):
        raise reader.error("links: 'preferences' is required on every e-mail")
    if marketing and not result.get("unsubscribe"):
        raise reader.error("links: 'unsubscribe' is required on marketing e-mail")
    result.setdefault("unsubscribe", None)
    return result


def account_context(shop: Shop, account: Account, now: datetime) -> dict:
    rules, exponent = shop.program, shop.currency_exponent
    spend = account.tier_spend(rules, now)
    standing = rules.standing(spend, exponent)
    # Lots past their last day count no more, though the expiry sweep may not have come by yet.
    balance = account.spendable_balance(now, shop.timezone)
    floor = to_minor(standing.tier.min_spend, exponent) if standing.tier else 0
    progress = 100
    if standing.next_tier:
        span = to_minor(standing.next_tier.min_spend, exponent) - floor
        progress = max(4, min(100, round((spend - floor) * 100 / span))) if span > 0 else 100
    return {
        "points_balance": balance,
        "balance_value_minor": rules.redemption_value_minor(max(balance, 0), exponent),
        "cashback_minor": account.cashback_minor,
        "tier": account.tier_name,
        "discount_percent": Decimal(account.discount_percent or "0"),
        "next_tier": standing.next_tier.name if standing.next_tier else None,
        "next_tier_discount_percent": standing.next_tier.discount_percent if standing.next_tier else None,
        "spend_to_next_minor": standing.spend_to_next_minor,
        "tier_progress": progress,
        "expiry": nearest_expiry(account.lots, now, ZoneInfo(shop.timezone)),
        "min_redeem_points": rules.min_redeem_points,
        "can_redeem": balance >= rules.min_redeem_points and account.points_debt == 0,
        "points_to_redeem": max(rules.min_redeem_points - balance, 0),
    }


def nearest_expiry(lots: Optional[list[Lot]], now: datetime, tz: ZoneInfo) -> Optional[dict]:
    """The earliest last day still ahead, on the shop's clock (``tz``, which the mail's dates are
    shown in): the points of every lot honoured through that day, and the day. The ledger honours
    the whole day (domain/loyalty/lapse.py)."""
    if not lots:
        return None
    ahead = [lot for lot in lots if lot.points > 0 and not has_lapsed(lot.expires_at, tz, now)]
    if not ahead:
        return None
    first = min(ahead, key=lambda lot: lot.expires_at)
    day = last_day(first.expires_at, tz)
    points = sum(lot.points for lot in ahead if last_day(lot.expires_at, tz) == day)
    return {"points": points, "date": first.expires_at}


def program_context(rules: ProgramRules, exponent: int) -> dict:
    """The program as the templates see it: the same for every recipient of a shop, made once per
    rules (a frozen value) and exponent; each caller gets its own copy."""
    try:
        made = _program_context_once(rules, exponent)
    except TypeError:  # rules holding lists where tuples belong cannot be a cache key
        return _program_context(rules, exponent)
    return {**made, "tiers": [dict(tier) for tier in made["tiers"]]}


@lru_cache(maxsize=256)
def _program_context_once(rules: ProgramRules, exponent: int) -> dict:
    return _program_context(rules, exponent)


def _program_context(rules: ProgramRules, exponent: int) -> dict:
    rate = rules.earn_rate
    if rate >= 1 or rate <= 0:
        earn_points, spend_major = rate, Decimal(1)
    elif (1 / rate) == (1 / rate).to_integral_value():
        earn_points, spend_major = Decimal(1), 1 / rate  # 0.05 → 1 point per 20
    else:
        earn_points, spend_major = rate * 100, Decimal(100)
    return {
        "earn_points": _plain(earn_points),
        "earn_spend_minor": to_minor(spend_major, exponent),
        "point_value_minor": rules.redemption_value_minor(1, exponent),
        "min_redeem_points": rules.min_redeem_points,
        "validity_months": rules.points_validity_months,
        "tiers": [{"name": tier.name, "min_spend_minor": to_minor(tier.min_spend, exponent),
                   "discount_percent": tier.discount_percent}
                  for tier in sorted(rules.tiers, key=lambda tier: tier.min_spend)],
    }


# -- per template ------------------------------------------------------------------
def _post_purchase(reader: "_Data", shop: Shop, account: Account, now: datetime, base: dict) -> dict:
    lines = []
    for index, item in enumerate(reader.list("items")):
        if not isinstance(item, dict):
            raise reader.error(f"items[{index}] must be an object")
        lines.append({
            "title": reader.text_of(item, "title", f"items[{index}].title"),
            "quantity": reader.int_of(item, "quantity", f"items[{index}].quantity"),
            "total_minor": reader.int_of(item, "total_minor", f"items[{index}].total_minor"),
        })
    return {
        "recommendations": _recommendations(reader),
        "order": {
            "name": reader.text("order_name"),
            "id": reader.text("order_id"),
            "lines": lines,
            **_receipt_rows(reader, lines),
            "status_url": reader.text("status_url", default=None),
        },
        "points_earned": reader.int("points_earned"),
        "cashback_earned_minor": reader.int("cashback_minor", default=0),
        "membership_bought": _membership_bought(shop, account, reader.text("order_id")),
    }


def _receipt_rows(reader: "_Data", lines: list[dict]) -> dict:
    """The order's money rows below its items, as the customer's receipt shows them. Data without
    a ``receipt`` (messages queued before it was kept, a caller's own data) shows the items' sum as
    the subtotal and a ``total_minor`` only when given: nothing the order did not state."""
    total = reader.int("total_minor", default=None)
    given = reader.dict("receipt")
    rows = {"subtotal_minor": None, "discount_minor": 0, "discount_codes": [], "shipping_minor": None, "fees": [],
            "tax_added_minor": None, "tax_included_minor": None, "total_minor": total, "currency": None}
    if given is None:
        rows["subtotal_minor"] = sum(line["total_minor"] for line in lines)
        return rows

    def amount(key: str, default=None):
        value = given.get(key)
        return default if value is None else reader.int_of(given, key, f"receipt.{key}")

    included = given.get("taxes_included")
    if included is not None and not isinstance(included, bool):
        raise reader.error(f"'receipt.taxes_included' must be true, false or null, got {included!r}")
    fees = given.get("fees") or []
    if not isinstance(fees, list) or not all(isinstance(fee, dict) for fee in fees):
        raise reader.error("'receipt.fees' must be a list of {name, amount_minor}")
    codes = given.get("discount_codes") or []
    if not isinstance(codes, list):
        raise reader.error("'receipt.discount_codes' must be a list of codes")
    unknown = sorted(set(given) - {"total_minor", "subtotal_minor", "discount_minor", "discount_codes",
                                   "shipping_minor", "fees", "tax_minor", "taxes_included", "currency"})
    if unknown:
        raise reader.error(f"unknown receipt keys {unknown}")
    currency = given.get("currency")
    if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        raise reader.error(f"'receipt.currency' must be an ISO 4217 code, got {currency!r}")
    rows["currency"] = currency  # the items and rows are in it (None: the shop's)
    rows.update(
        subtotal_minor=amount("subtotal_minor"), discount_minor=amount("discount_minor", 0),
        discount_codes=[code for code in (_clean(str(code)) for code in codes) if code],
        shipping_minor=amount("shipping_minor"),
        fees=[{"name": _clean(fee.get("name")), "amount_minor": reader.int_of(fee, "amount_minor", "receipt.fees.amount_minor")}
              for fee in fees],
        total_minor=reader.int_of(given, "total_minor", "receipt.total_minor"))
    # Tax on top of the prices is a row of its own; tax inside them is said under the total.
    tax = amount("tax_minor")
    if tax and included is not None:
        rows["tax_included_minor" if included else "tax_added_minor"] = tax
    return rows


def _membership_bought(shop: Shop, account: Account, order_id: str) -> Optional[dict]:
    """The plan this order bought, with its terms and the membership's end (None: it bought none)."""
    bought = account.member_orders.get(order_id)
    if not bought or account.member_until is None:
        return None
    plan = (shop.program.membership.plan(bought["plan"]) if bought.get("plan") else None) \
        or membership.plan_of(account, shop.program)
    return {"until": account.member_until, **membership.plan_terms(plan), "plan_name": plan.name or None,
            "extra_cashback_percent": plan.extra_cashback_percent}


def _shipment_update(reader: "_Data", shop: Shop, account: Account, now: datetime, base: dict) -> dict:
    stage = reader.text("stage")
    if stage not in ("shipped", "delivered"):
        raise reader.error(f"'stage' must be 'shipped' or 'delivered', got {stage!r}")
    raw = reader._get("tracking", [])
    if not isinstance(raw, list):
        raise reader.error("'tracking' must be a list of {number, url}")
    tracking = []
    for index, parcel in enumerate(raw[:50]):
        if not isinstance(parcel, dict):
            raise reader.error(f"tracking[{index}] must be an object")
        url = _clean(str(parcel.get("url") or "")) or None
        if url and not url.lower().startswith(("https://", "http://")):
            raise reader.error(f"tracking[{index}].url must be an http(s) link")
        number = _clean(str(parcel.get("number") or ""))
        if url or number:
            tracking.append({"number": number, "url": url})
    return {
        "shipment": {"stage": stage, "delivered": stage == "delivered", "order_name": reader.text("order_name"),
                     "order_id": reader.text("order_id", default=None), "carrier": reader.text("carrier", default=""),
                     "tracking": tracking},
        "points_earned": reader.int("points_earned", default=0),
    }


_FLOW_PRESETS = ("second_purchase", "review_request", "checkout_reminder", "checkout_last_call")
_FLOW_COPY_KEYS = ("subject", "heading", "body", "cta")


def _flow_message(reader: "_Data", shop: Shop, account: Account, now: datetime, base: dict) -> dict:
    from chalicelib.mail.catalog import catalog

    locale = base["locale"]
    preset = reader.text("preset", default="custom")
    reader.text("flow_id", default=None)  # which flow sent it: for the logs and the send record
    own = reader._get("copy", None)  # the shop's words: {locale: {subject, heading, body, cta}}
    words = None
    if isinstance(own, dict) and own:
        chosen = own.get(locale) or own.get(shop.default_locale) or next(iter(own.values()))
        if not isinstance(chosen, dict) or any(not isinstance(chosen.get(k), str) or not chosen.get(k).strip()
                                               for k in _FLOW_COPY_KEYS):
            raise reader.error("'copy' needs subject, heading, body and cta per locale")
        words = {key: _clean(chosen[key]) for key in _FLOW_COPY_KEYS}
    elif preset in _FLOW_PRESETS:
        texts = catalog(locale)
        words = {key: texts[f"flow_message.{preset}.{key}"] for key in _FLOW_COPY_KEYS}
    else:
        raise reader.error(f"'preset' must be one of {', '.join(_FLOW_PRESETS)} or 'copy' must be given")
    url = reader.text("url", default=base["links"]["shop"])
    if not url.lower().startswith(("https://", "http://")):
        raise reader.error("'url' must be an http(s) link")
    items = []
    for index, item in enumerate(reader._get("items", []) or []):
        if not isinstance(item, dict):
            raise reader.error(f"items[{index}] must be an object")
        items.append({"title": reader.text_of(item, "title", f"items[{index}].title"),
                      "quantity": reader.int_of(item, "quantity", f"items[{index}].quantity"),
                      "total_minor": reader.int_of(item, "total_minor", f"items[{index}].total_minor")})
    recommendations = _recommendations(reader)
    return {"flow": {**words, "url": url, "items": items, "recommendations": recommendations or [],
                     "free_shipping": reader.bool("free_shipping", default=False), "preset": preset},
            "offer": _offer(reader), "recommendations": recommendations}


MAX_OFFER_PRODUCTS = 200


def _personal_offer(reader: "_Data", shop: Shop, account: Account, now: datetime, base: dict) -> dict:
    """An individual offer: its name, the products it is for, the customer's code and its terms."""
    name = reader.text("offer_name")
    reader.text("offer_id", default=None)  # which offer: for the logs and the send record
    products = []
    listed = reader._get("products", None)
    if not isinstance(listed, list) or not listed or len(listed) > MAX_OFFER_PRODUCTS:
        raise reader.error(f"'products' must list 1 to {MAX_OFFER_PRODUCTS} products")
    for index, product in enumerate(listed):
        if not isinstance(product, dict):
            raise reader.error(f"products[{index}] must be an object")
        products.append({"title": _clean(reader.text_of(product, "title", f"products[{index}].title"))})
    url = reader.text("url", default=base["links"]["shop"])
    if not url.lower().startswith(("https://", "http://")):
        raise reader.error("'url' must be an http(s) link")
    offer = _offer(reader)
    if offer is None or offer["expires_at"] is None or (offer["discount_percent"] is None and not offer["value_minor"]):
        raise reader.error("an offer needs 'code', 'code_expires_at' and 'discount_percent' or 'code_value_minor'")
    return {"personal": {"name": _clean(name), "products": products, "url": url}, "offer": offer}


_RECOMMENDATION_REASONS = ("reorder", "bought_with")
MAX_RECOMMENDATIONS = 6


def _recommendations(reader: "_Data") -> Optional[list[dict]]:
    """The products an e-mail recommends (services/products/recommendations.py picks them), or
    None when there are none: the e-mail then has no recommendations block at all."""
    raw = reader._get("recommendations", None)
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise reader.error("'recommendations' must be a list of {title, url, image_url, price_minor, reason}")
    products = []
    for index, product in enumerate(raw[:MAX_RECOMMENDATIONS]):
        label = f"recommendations[{index}]"
        if not isinstance(product, dict):
            raise reader.error(f"{label} must be an object")
        links = {}
        for key in ("url", "image_url"):
            value = _clean(str(product.get(key) or "")) or None
            if value and not value.lower().startswith(("https://", "http://")):
                raise reader.error(f"{label}.{key} must be an http(s) link")
            links[key] = value
        if not links["url"]:
            raise reader.error(f"{label} needs a title and an http(s) url")
        reason = product.get("reason") or "bought_with"
        if reason not in _RECOMMENDATION_REASONS:
            raise reader.error(f"{label}.reason must be one of {', '.join(_RECOMMENDATION_REASONS)}")
        price = product.get("price_minor")
        products.append({"title": reader.text_of(product, "title", f"{label}.title"), **links,
                         "price_minor": None if price is None else reader._as_int(price, f"{label}.price_minor"),
                         "reason": reason, "product_id": _clean(str(product.get("product_id") or "")) or None})
    return products or None


def _points_expiring(reader, shop, account, now, base) -> dict:
    expiry = base["account"]["expiry"]
    points = reader.int("points", default=expiry["points"] if expiry else None)
    moment = reader.moment("expires_at", default=expiry["date"] if expiry else None)
    if points is None or moment is None:
        raise reader.error("give 'points' and 'expires_at' (the account has no lots ahead to take them from)")
    return {"expiring": {"points": points, "date": moment,
                         "value_minor": shop.program.redemption_value_minor(points, shop.currency_exponent)}}


def _special_day(reader, shop, account, now, base) -> dict:
    ends_at = reader.moment("ends_at")
    url = reader.text("url", default=base["links"]["shop"])
    if not url.lower().startswith(("https://", "http://")):  # as flow_message's and personal_offer's
        raise reader.error("'url' must be an http(s) link")
    return {
        "special": {
            "title": reader.text("title"),
            "starts_at": reader.moment("starts_at"),
            "ends_at": ends_at,
            "free_shipping": reader.bool("free_shipping", default=False),
            "min_order_minor": reader.int("min_order_minor", default=None),
            "description": reader.text("description", default=None),
            "url": url,
        },
        "offer": _offer(reader, default_expiry=ends_at),
        "claim": _claim(reader, base["links"]),
    }


def _claim(reader: "_Data", links: dict) -> Optional[dict]:
    """Bonus points the customer claims on our page (``links.claim``, made by the sender)."""
    points = reader.int("claim_points", default=None)
    until = reader.moment("claim_until", default=None)
    if not points:
        return None
    return {"points": points, "until": until, "url": links.get("claim") or links["shop"]}


def _reward_code(reader, shop, account, now, base) -> dict:
    return {
        "offer": {"code": reader.text("code"), "value_minor": reader.int("value_minor"), "discount_percent": None,
                  "expires_at": reader.moment("expires_at", default=None), "free_shipping": False,
                  "min_order_minor": None},
        "reward": {"points": reader.int("points", default=None),
                   "url": reader.text("url", default=base["links"]["shop"])},
    }


def _tier_upgrade(reader, shop, account, now, base) -> dict:
    name = reader.text("tier", default=account.tier_name)
    if not name:
        raise reader.error("'tier' is required when the account has no tier_name")
    tier: Optional[Tier] = next((t for t in shop.program.tiers if t.name.lower() == name.lower()), None)
    discount = tier.discount_percent if tier else base["account"]["discount_percent"]
    return {"new_tier": {"name": tier.name if tier else name, "discount_percent": discount,
                         "previous": reader.text("previous_tier", default=None)}}


def _referral_reward(reader, shop, account, now, base) -> dict:
    points = reader.int("points", default=0)
    cashback = reader.int("cashback_minor", default=0)
    offer = _offer(reader)
    if points <= 0 and cashback <= 0 and offer is None:
        raise reader.error("give 'points', 'cashback_minor' or a 'code' for the referral reward")
    return {
        "referral": {"friend_first_name": reader.text("friend_first_name", default=None), "points": points,
                     "cashback_minor": cashback,
                     "share_url": reader.text("share_url", default=base["links"].get("referral") or base["links"]["shop"])},
        "offer": offer,
    }


def _welcome(reader, shop, account, now, base) -> dict:
    bonus = reader.int("bonus_points", default=0)
    return {"bonus_points": bonus,
            "bonus_value_minor": shop.program.redemption_value_minor(max(bonus, 0), shop.currency_exponent)}


def _birthday(reader, shop, account, now, base) -> dict:
    bonus = reader.int("bonus_points", default=0)
    offer = _offer(reader)
    if bonus <= 0 and offer is None:
        raise reader.error("give 'bonus_points' or a 'code' for the birthday gift")
    return {"bonus_points": bonus, "offer": offer}


def _winback(reader, shop, account, now, base) -> dict:
    default_days = (now - account.last_order_at).days if account.last_order_at else None
    days = reader.int("days_since_last_order", default=default_days)
    return {"winback": {"days_since_last_order": days if days and days > 0 else None}, "offer": _offer(reader),
            "recommendations": _recommendations(reader)}


def _tier_at_risk(reader, shop, account, now, base) -> dict:
    name = reader.text("tier")
    tier: Optional[Tier] = next((t for t in shop.program.tiers if t.name.lower() == name.lower()), None)
    needed = reader.int("spend_needed_minor")
    if needed <= 0:
        raise reader.error("'spend_needed_minor' must be positive")
    return {"at_risk": {"tier": tier.name if tier else name,
                        "discount_percent": tier.discount_percent if tier else Decimal(0),
                        "spend_needed_minor": needed, "by": reader.moment("by"),
                        "lower_tier": reader.text("next_lower_tier", default=None)}}


def _achievement(reader, shop, account, now, base) -> dict:
    kind = reader.text("achievement")
    if kind not in ("orders", "reviews", "tier"):
        raise reader.error("'achievement' must be orders, reviews or tier")
    tier = reader.text("tier", default=None) if kind == "tier" else None
    if kind == "tier" and not tier:
        raise reader.error("a 'tier' achievement needs the 'tier'")
    threshold = reader.int("threshold", default=1) if kind != "tier" else 1
    return {"achievement": {"kind": kind, "threshold": max(threshold, 1), "tier": tier,
                            "points": reader.int("points", default=0)}}


def _membership_reminder(reader, shop, account, now, base) -> dict:
    until = reader.moment("member_until", default=account.member_until)
    if until is None:
        raise reader.error("'member_until' is required (the customer is not a member)")
    return {"membership": {"until": until, **_plan_terms(reader, shop, account)}}


def _plan_terms(reader, shop, account) -> dict:
    """The member's plan as the e-mail states it: the data's terms (what the job decided), else the
    account's plan (a preview or a test send), else the single-SKU membership's."""
    sku = reader.text("plan_sku", default=None)
    plan = (shop.program.membership.plan(sku) if sku else None) or membership.plan_of(account, shop.program) \
        or shop.program.membership.plan(None)
    period = reader.text("period", default=plan.period if plan else shop.program.membership.period)
    if period not in ("monthly", "yearly"):
        raise reader.error("'period' must be monthly or yearly")
    extra = reader.decimal("extra_cashback_percent",
                           default=plan.extra_cashback_percent if plan else shop.program.membership.extra_cashback_percent)
    return {"plan_name": reader.text("plan_name", default=(plan.name or None) if plan else None), "period": period,
            "free_shipping": reader.bool("free_shipping", default=plan.free_shipping if plan else True),
            "extra_cashback_percent": extra or Decimal(0),
            "exclusive_offers": reader.bool("exclusive_offers", default=plan.exclusive_offers if plan else True)}


def _offer(reader: "_Data", default_expiry=None) -> Optional[dict]:
    code = reader.text("code", default=None)
    discount = reader.decimal("discount_percent", default=None)
    value = reader.int("code_value_minor", default=None)
    expires = reader.moment("code_expires_at", default=default_expiry)
    free_shipping = reader.bool("free_shipping", default=False)
    min_order = reader.int("min_order_minor", default=None)
    if not code:
        if discount is not None or value is not None:
            raise reader.error("'discount_percent' / 'code_value_minor' need a 'code'")
        return None
    return {"code": code, "discount_percent": discount, "value_minor": value, "expires_at": expires,
            "free_shipping": free_shipping, "min_order_minor": min_order or None}


_BUILDERS = {
    "post_purchase": _post_purchase, "points_expiring": _points_expiring, "special_day": _special_day,
    "reward_code": _reward_code, "tier_upgrade": _tier_upgrade, "referral_reward": _referral_reward,
    "welcome": _welcome, "birthday": _birthday, "winback": _winback, "tier_at_risk": _tier_at_risk,
    "achievement": _achievement, "membership_reminder": _membership_reminder,
    "shipment_update": _shipment_update, "flow_message": _flow_message, "personal_offer": _personal_offer,
}
assert set(_BUILDERS) == set(TEMPLATES)


# -- reading data --------------------------------------------------------------------
class _Data:
    """Typed reads of the ``data`` dict; errors name the template, the locale and the key."""

    def __init__(self, template: str, locale: str, data: dict, default_locale: Optional[str] = None):
        if not isinstance(data, dict):
            raise ContextError(template, locale, None, "data must be a dict")
        self.template, self.locale, self.data = template, locale, data
        self.default_locale = default_locale
        self.read: set[str] = set()

    def error(self, message: str) -> ContextError:
        return ContextError(self.template, self.locale, None, message, source="data")

    def _get(self, key: str, default):
        self.read.add(key)
        value = self.data.get(key)
        if value is None or value == "":
            if default is _MISSING:
                raise self.error(f"{key!r} is required")
            return default
        return value

    def text(self, key: str, default=_MISSING) -> Optional[str]:
        """A text, or a text per locale (``{"de": "...", "en": "..."}``): the recipient's
        locale, else the shop's default locale's (never another language picked at random)."""
        value = self._get(key, default)
        if isinstance(value, dict):
            value = localized_text(value, self.locale, self.default_locale)
            if value is None:
                if default is _MISSING:
                    raise self.error(f"{key!r} has no text for {self.locale!r} nor the shop's default locale "
                                     f"{self.default_locale!r}")
                return default
        return _clean(str(value)) if value is not None else None

    def text_of(self, item: dict, key: str, label: str) -> str:
        value = _clean(str(item.get(key) or ""))
        if not value:
            raise self.error(f"{label!r} is required")
        return value

    def int(self, key: str, default=_MISSING) -> Optional[int]:
        value = self._get(key, default)
        return None if value is None else self._as_int(value, key)

    def int_of(self, item: dict, key: str, label: str) -> int:
        if item.get(key) is None:
            raise self.error(f"{label!r} is required")
        return self._as_int(item[key], label)

    def _as_int(self, value: Any, label: str) -> int:
        if isinstance(value, bool) or isinstance(value, float):
            raise self.error(f"{label!r} must be an integer (minor units for money), got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.error(f"{label!r} must be an integer, got {value!r}") from None

    def decimal(self, key: str, default=_MISSING) -> Optional[Decimal]:
        value = self._get(key, default)
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, (bool, float)):
            raise self.error(f"{key!r} must be a decimal string or an int, got {value!r}")
        try:
            return Decimal(str(value))
        except ArithmeticError:
            raise self.error(f"{key!r} is not a number: {value!r}") from None

    def bool(self, key: str, default=_MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{key!r} must be true or false, got {value!r}")
        return value

    def dict(self, key: str) -> Optional[dict]:
        value = self._get(key, None)
        if value is not None and not isinstance(value, dict):
            raise self.error(f"{key!r} must be an object")
        return value

    def list(self, key: str) -> list:
        value = self._get(key, _MISSING)
        if not isinstance(value, list) or not value:
            raise self.error(f"{key!r} must be a non-empty list")
        return value

    def moment(self, key: str, default=_MISSING):
        value = self._get(key, default)
        if value is None or isinstance(value, (datetime, date)):
            return value
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise self.error(f"{key!r} is not an ISO date or datetime: {value!r}") from None
            return parsed if "T" in value or " " in value else parsed.date()
        raise self.error(f"{key!r} must be a date or datetime, got {value!r}")

    def done(self) -> None:
        """Unknown keys are a caller's typo: say so instead of silently ignoring them."""
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise self.error(f"unknown data keys {unknown} (known: {sorted(self.read)})")


def _clean(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _plain(value: Decimal):
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


# -- sample data -----------------------------------------------------------------------
SAMPLE_NOW = datetime(2025, 6, 2, 9, 30, tzinfo=timezone.utc)


@dataclass
class SampleShop(Shop):
    """A ``Shop`` with the optional branding fields the templates show."""

    logo_url: Optional[str] = None
    address: Optional[str] = None


_SAMPLE_NAMES = {"en": "Emily", "de": "Jonas", "ru": "Ольга", "uk": "Олена"}
_SAMPLE_FRIENDS = {"en": "Jack", "de": "Lena", "ru": "Дмитрий", "uk": "Андрій"}
_SAMPLE_ITEMS = {
    "en": ["Ethiopia Yirgacheffe coffee, 250 g", "Colombia Huila coffee, 1 kg", "Hario V60 paper filters, 100 pcs",
           "Zerno ceramic cup, 300 ml"],
    "de": ["Kaffee Äthiopien Yirgacheffe, 250 g", "Kaffee Kolumbien Huila, 1 kg", "Hario V60 Filterpapier, 100 Stück",
           "Keramiktasse „Zerno“, 300 ml"],
    "ru": ["Кофе Эфиопия Иргачеффе, 250 г", "Кофе Колумбия Уила, 1 кг", "Фильтры Hario V60, 100 шт.",
           "Керамическая чашка «Zerno», 300 мл"],
    "uk": ["Кава Ефіопія Іргачеф, 250 г", "Кава Колумбія Уїла, 1 кг", "Фільтри Hario V60, 100 шт.",
           "Керамічна чашка «Zerno», 300 мл"],
}
_SAMPLE_SPECIAL = {"en": "Coffee Weekend", "de": "Kaffee-Wochenende", "ru": "Кофейные выходные", "uk": "Кавові вихідні"}


def sample_shop(locale: str) -> SampleShop:
    """Zerno, a coffee roaster: in Kyiv (UAH) for en/ru/uk, in Berlin (EUR) for de."""
    if locale == "de":
        return SampleShop(
            shop_id="zerno-berlin", platform="shopify", currency="EUR", currency_exponent=2, default_locale="de",
            timezone="Europe/Berlin", sender_email="hallo@zerno.example", storefront_url="https://zerno.example/de",
            name="Zerno Kaffeerösterei", logo_url="https://zerno.example/static/logo-112.png",
            address="Zerno Kaffeerösterei GmbH · Torstraße 118 · 10119 Berlin",
            program=ProgramRules(earn_rate=Decimal("1"), point_value=Decimal("0.05"), min_redeem_points=100,
                                 tiers=(Tier("Silver", Decimal("250"), Decimal("5")),
                                        Tier("Gold", Decimal("600"), Decimal("7")))))
    return SampleShop(
        shop_id="zerno-kyiv", platform="shopify", currency="UAH", currency_exponent=2, default_locale="uk",
        timezone="Europe/Kyiv", sender_email="hello@zerno.example", storefront_url="https://zerno.example",
        name="Zerno", logo_url="https://zerno.example/static/logo-112.png",
        address="22 Khreshchatyk St, Kyiv 01001, Ukraine" if locale == "en" else "вул. Хрещатик, 22, Київ, 01001",
        program=ProgramRules(cashback_percent=Decimal("2")))


def _at(day: date, hour: int = 18) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.utc)


def sample_account(locale: str, shop: Shop, template: str = "post_purchase") -> Account:
    eur = shop.currency == "EUR"
    account = Account(
        shop_id=shop.shop_id, customer_id="c_sample", created_at=SAMPLE_NOW - timedelta(days=240),
        email="customer@example.com", first_name=_SAMPLE_NAMES[locale], locale=locale, marketing_consent=True,
        orders_count=3, last_order_at=SAMPLE_NOW,
        lifetime_spend_minor=31_240 if eur else 379_900, tier_name="Silver", discount_percent="5",
        cashback_minor=0 if eur else 11_808)
    lots = [(150, 300), (395, 761), (95, 189)]  # (EUR shop, UAH shop) points per lot
    expiries = [date(2025, 6, 30), date(2025, 10, 12), date(2025, 12, 2)]
    account.lots = [Lot(f"lot-{i}", pair[0] if eur else pair[1], SAMPLE_NOW - timedelta(days=30 * (3 - i)),
                        _at(day), "order") for i, (pair, day) in enumerate(zip(lots, expiries))]
    account.points_balance = sum(lot.points for lot in account.lots)
    if template in ("tier_upgrade", "tier_at_risk"):
        account.lifetime_spend_minor = 61_530 if eur else 512_000
        account.tier_name, account.discount_percent = "Gold", "7"
    elif template == "welcome":
        account.lots = [Lot("welcome", 50, SAMPLE_NOW, _at(date(2025, 12, 2)), "bonus")]
        account.points_balance, account.orders_count, account.cashback_minor = 50, 0, 0
        account.lifetime_spend_minor, account.tier_name, account.discount_percent = 0, None, "0"
        account.last_order_at = None
    elif template == "winback":
        account.last_order_at = SAMPLE_NOW - timedelta(days=97)
    return account


def sample_links(locale: str) -> dict:
    token = "s4mpl3-t0k3n"
    return {
        "unsubscribe": f"https://mail.zerno.example/unsubscribe/{token}",
        "preferences": f"https://mail.zerno.example/preferences/{token}?lang={locale}",
    }


def sample_data(template: str, locale: str, shop: Shop) -> dict:
    eur = shop.currency == "EUR"
    soon = SAMPLE_NOW + timedelta(days=14)
    if template == "post_purchase":
        prices = [(2, 2_580), (1, 3_490), (1, 650), (2, 2_800)] if eur else \
            [(2, 97_800), (1, 154_900), (1, 28_900), (2, 98_300)]
        items = [{"title": title, "quantity": qty, "total_minor": total}
                 for title, (qty, total) in zip(_SAMPLE_ITEMS[locale], prices)]
        subtotal = sum(total for _, total in prices)
        # Berlin: 10 % off with a code, 4.90 shipping, 19 % VAT inside the prices; Kyiv: 80 UAH shipping.
        receipt = {"subtotal_minor": subtotal, "discount_minor": 952, "discount_codes": ["ZERNO10"],
                   "shipping_minor": 490, "total_minor": subtotal - 952 + 490, "tax_minor": 1_446,
                   "taxes_included": True} if eur else \
            {"subtotal_minor": subtotal, "shipping_minor": 8_000, "total_minor": subtotal + 8_000}
        return {"order_name": "#1042", "order_id": "5318008123", "items": items, "receipt": receipt,
                "status_url": "https://zerno.example/orders/1042/status",
                "points_earned": 95 if eur else 189, "cashback_minor": 0 if eur else 7_598}
    if template == "shipment_update":
        return {"stage": "shipped", "order_id": "5318008123", "order_name": "#1042", "carrier": "DHL",
                "tracking": [{"number": "00340434161094042557",
                              "url": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"
                                     "?idc=00340434161094042557"}],
                "points_earned": 95 if eur else 189}
    if template == "personal_offer":
        return {"offer_id": "of_3f9a1c2b7d4e", "offer_name": _SAMPLE_OFFER_NAME[locale],
                "products": [{"sku": "SKU-1", "title": title} for title in _SAMPLE_ITEMS[locale][:2]],
                "code": "GIFT-7KQ2X-R4TZP-M8WQD", "discount_percent": "20", "min_order_minor": 2_000 if eur else 80_000,
                "code_expires_at": soon}
    if template == "flow_message":
        return {"preset": "checkout_reminder", "url": "https://zerno.example/checkouts/ac/9f2b1c/recover?key=5d1e",
                "items": [{"title": title, "quantity": 1, "total_minor": 3_490 if eur else 154_900}
                          for title in _SAMPLE_ITEMS[locale][1:2]],
                "code": "FLOW-7KQ2-XR4T", "discount_percent": "10", "code_expires_at": soon}
    if template == "points_expiring":
        return {"points": 150 if eur else 300, "expires_at": _at(date(2025, 6, 30))}
    if template == "special_day":
        return {"title": _SAMPLE_SPECIAL[locale], "starts_at": date(2025, 6, 13), "ends_at": date(2025, 6, 15),
                "free_shipping": True, "min_order_minor": 2_500 if eur else 50_000,
                "code": "WEEKEND10", "discount_percent": "10"}
    if template == "reward_code":
        return {"code": "PTS-7KQ2M-XR4TD-9HJ3B", "value_minor": 1_000 if eur else 50_000,
                "points": 200 if eur else 500, "expires_at": SAMPLE_NOW + timedelta(days=30)}
    if template == "tier_upgrade":
        return {"tier": "Gold", "previous_tier": "Silver"}
    if template == "referral_reward":
        return {"friend_first_name": _SAMPLE_FRIENDS[locale], "points": 200,
                "share_url": "https://zerno.example/r/FRIEND-7K2Q"}
    if template == "welcome":
        return {"bonus_points": 50}
    if template == "birthday":
        return {"bonus_points": 200, "code": "BDAY-7Q4K", "discount_percent": "15", "code_expires_at": soon}
    if template == "tier_at_risk":
        return {"tier": "Gold", "spend_needed_minor": 4_250 if eur else 85_000, "by": date(2025, 6, 30),
                "next_lower_tier": "Silver"}
    if template == "winback":
        return {"code": "COMEBACK15", "discount_percent": "15", "code_expires_at": soon,
                "recommendations": sample_recommendations(locale, shop)}
    if template == "achievement":
        return {"achievement": "orders", "threshold": 5, "points": 100}
    if template == "membership_reminder":
        return {"member_until": _at(date(2025, 6, 9)), "plan_name": "Club Plus", "period": "yearly",
                "free_shipping": True, "extra_cashback_percent": "2", "exclusive_offers": True}
    raise ValueError(template)


def sample_recommendations(locale: str, shop: Shop) -> list[dict]:
    """A win-back's picks: the coffee the customer reorders, and the filters bought with it."""
    eur = shop.currency == "EUR"
    base = shop.storefront_url.rstrip("/")
    return [{"product_id": "8120443", "title": _SAMPLE_ITEMS[locale][0], "url": f"{base}/products/ethiopia-yirgacheffe",
             "image_url": "https://cdn.zerno.example/products/yirgacheffe-250-128.jpg",
             "price_minor": 1_290 if eur else 48_900, "reason": "reorder"},
            {"product_id": "8120517", "title": _SAMPLE_ITEMS[locale][2], "url": f"{base}/products/hario-v60-filters",
             "image_url": "https://cdn.zerno.example/products/v60-filters-128.jpg",
             "price_minor": 650 if eur else 28_900, "reason": "bought_with"}]


_SAMPLE_OFFER_NAME = {"en": "Coffee week", "de": "Woche für Kaffeeliebhaber", "ru": "Неделя любителей кофе",
                      "uk": "Тиждень кавоманів"}


def sample_context(template: str, locale: str) -> dict:
    """A realistic context of ``template`` in ``locale`` (sample shop, customer and data)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; known: {', '.join(LOCALES)}")
    shop = sample_shop(locale)
    account = sample_account(locale, shop, template)
    return build_context(template, shop=shop, account=account, data=sample_data(template, locale, shop),
                         links=sample_links(locale), now=SAMPLE_NOW)


__all__ = ["build_context", "sample_context", "sample_shop", "sample_account", "sample_data", "sample_links",
           "SampleShop", "SAMPLE_NOW", "account_context", "program_context", "shop_context", "nearest_expiry"]
