"""``/r/{token}``: a tracked link is followed, counted and sent on; a reward link lands its reward.

- ``GET`` of a plain link records the click and answers 302 to the destination.
- ``GET`` of a link carrying a code records the click and lands in the shop with the
  code applied (Shopify's discount URL, WooCommerce's ``coupon_code`` parameter); on a
  platform that cannot apply it from a URL, or when the code no longer works, a page
  shows the code (or why it no longer works) with a button to the shop.
- ``GET`` of a link carrying bonus points shows a page with a button; only the
  ``POST`` of that button grants the points, once per customer and reward. Mail
  scanners and link previews fetch links; a GET never grants anything.

A link that is tampered with, signed with an unknown key, expired, for an unknown
shop or (after the shop changed its domains) to a host the shop no longer names
gets a friendly 404 page and never a redirect.

The store is never in the customer's way: when the click cannot be recorded, or the shop
or the code cannot be read at all (a DynamoDB error), an intact, unexpired plain or code
link still answers 302 to the destination its signed token carries (a code link then
without applying the code). Only a bonus-points page, which needs the account, asks to
try again later.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib.mail.pages import PAGE_HEADERS, document, escape
from chalicelib.domain.loyalty.account import add_months
from chalicelib.domain.campaigns.links import Click, safe_destination, with_code
from chalicelib.errors import NotFound
from chalicelib.mail import tokens
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.store import keys
from chalicelib.store.loyalty.repository import Change
from chalicelib.mail.base import resolve_locale

logger = logging.getLogger("loyalty.links")
_CLAIM_ATTEMPTS = 5
_STORE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)

REDIRECT_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store",
                    "Referrer-Policy": "no-referrer",
                    "X-Robots-Tag": "noindex, nofollow"}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "not_found_title": "This link does not work",
        "not_found_body": "It may be incomplete or too old. Copy the whole link from the e-mail, or visit the shop.",
        "expired_title": "This link has expired",
        "expired_body": "The offer it led to is over. There may be new ones in the shop.",
        "code_title": "Your code",
        "code_body": "Enter it at checkout.",
        "code_unusable_title": "This code cannot be used right now",
        "continue": "Continue to the shop",
        "claim_title": "Claim {points}",
        "claim_body": "They are added to your account at once.",
        "claim_button": "Claim my points",
        "claimed_title": "Added to your account: {points}",
        "claimed_body": "Your balance is now {balance}.",
        "already_claimed_title": "You have already claimed these points",
        "already_claimed_body": "Each gift can be claimed once. Your balance is {balance}.",
        "claim_failed_title": "That did not work",
        "claim_failed_body": "Please try again in a few minutes.",
        "back": "Back to the shop",
    },
    "de": {
        "not_found_title": "Dieser Link funktioniert nicht",
        "not_found_body": "Vielleicht ist er unvollständig oder zu alt. Kopieren Sie den ganzen Link aus der E-Mail "
                          "oder besuchen Sie den Shop.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired_body": "Das Angebot ist vorbei. Im Shop gibt es vielleicht neue.",
        "code_title": "Ihr Code",
        "code_body": "Geben Sie ihn an der Kasse ein.",
        "code_unusable_title": "Dieser Code kann gerade nicht verwendet werden",
        "continue": "Weiter zum Shop",
        "claim_title": "{points} abholen",
        "claim_body": "Sie werden Ihrem Konto sofort gutgeschrieben.",
        "claim_button": "Punkte abholen",
        "claimed_title": "Ihrem Konto gutgeschrieben: {points}",
        "claimed_body": "Ihr Punktestand beträgt jetzt {balance}.",
        "already_claimed_title": "Sie haben diese Punkte bereits abgeholt",
        "already_claimed_body": "Jedes Geschenk kann einmal abgeholt werden. Ihr Punktestand: {balance}.",
        "claim_failed_title": "Das hat nicht geklappt",
        "claim_failed_body": "Bitte versuchen Sie es in ein paar Minuten noch einmal.",
        "back": "Zurück zum Shop",
    },
    "ru": {
        "not_found_title": "Эта ссылка не работает",
        "not_found_body": "Возможно, она неполная или устарела. Скопируйте ссылку из письма целиком или зайдите в магазин.",
        "expired_title": "Срок действия ссылки истёк",
        "expired_body": "Предложение закончилось. В магазине могут быть новые.",
        "code_title": "Ваш код",
        "code_body": "Введите его при оформлении заказа.",
        "code_unusable_title": "Этот код сейчас нельзя использовать",
        "continue": "Перейти в магазин",
        "claim_title": "Получите {points}",
        "claim_body": "Они сразу появятся на вашем счёте.",
        "claim_button": "Получить баллы",
        "claimed_title": "Начислено на ваш счёт: {points}",
        "claimed_body": "Теперь на вашем счёте {balance}.",
        "already_claimed_title": "Вы уже получили эти баллы",
        "already_claimed_body": "Каждый подарок можно получить один раз. На вашем счёте {balance}.",
        "claim_failed_title": "Не получилось",
        "claim_failed_body": "Пожалуйста, попробуйте ещё раз через несколько минут.",
        "back": "Вернуться в магазин",
    },
    "uk": {
        "not_found_title": "Це посилання не працює",
        "not_found_body": "Можливо, воно неповне або застаріле. Скопіюйте посилання з листа повністю або зайдіть у магазин.",
        "expired_title": "Термін дії посилання минув",
        "expired_body": "Пропозиція завершилася. У магазині можуть бути нові.",
        "code_title": "Ваш код",
        "code_body": "Введіть його під час оформлення замовлення.",
        "code_unusable_title": "Цей код зараз не можна використати",
        "continue": "Перейти до магазину",
        "claim_title": "Отримайте {points}",
        "claim_body": "Вони одразу з'являться на вашому рахунку.",
        "claim_button": "Отримати бали",
        "claimed_title": "Нараховано на ваш рахунок: {points}",
        "claimed_body": "Тепер на вашому рахунку {balance}.",
        "already_claimed_title": "Ви вже отримали ці бали",
        "already_claimed_body": "Кожен подарунок можна отримати один раз. На вашому рахунку {balance}.",
        "claim_failed_title": "Не вдалося",
        "claim_failed_body": "Будь ласка, спробуйте ще раз за кілька хвилин.",
        "back": "Повернутися до магазину",
    },
}


class Answer:
    """What the route answers: a status, headers and a body (HTML, or empty for a redirect)."""

    def __init__(self, status: int, body: str = "", headers: Optional[dict] = None):
        self.status, self.body, self.headers = status, body, headers or dict(PAGE_HEADERS)

    @classmethod
    def redirect(cls, location: str) -> "Answer":
        return cls(302, "", {**REDIRECT_HEADERS, "Location": location})


def follow_link(deps, token: str, *, accept_language: Optional[str] = None, now: Optional[datetime] = None,
                count_click: bool = True) -> Answer:
    """``GET /r/{token}`` (``HEAD`` answers the same without counting a click: link checkers and
    mail scanners ask before a person clicks)."""
    now = now or deps.clock()
    try:
        found = _resolve(deps, token, now, accept_language)
    except _STORE_ERRORS:
        logger.warning("could not read the shop of a tracked link: sending the customer on", exc_info=True)
        return _redirect_without_the_store(deps, token, now)
    if isinstance(found, Answer):
        return found
    shop, link, destination = found
    if count_click:
        _record_click(deps, shop, link, now)
    reward = link.reward or {}
    try:
        if isinstance(reward.get("points"), int):
            return _claim_page(deps, shop, link, accept_language, now)
        code = reward.get("code")
        if isinstance(code, str) and code:
            return _land_with_code(deps, shop, link, destination, code, accept_language, now)
    except _STORE_ERRORS:
        logger.warning("could not read a tracked link's reward: shop=%s", shop.shop_id, exc_info=True)
        if isinstance(reward.get("points"), int):
            return _message(503, shop, resolve_locale(accept_language, shop.default_locale), "claim_failed")
    return Answer.redirect(destination)


def _redirect_without_the_store(deps, token: str, now: datetime) -> Answer:
    """The store cannot be read: the signed token alone decides. Its destination was checked
    against the shop's hosts when the e-mail was made; it still has to be a well-formed web URL."""
    link = deps.tokens.read_tracked_link(token)
    if link is None or now > link.expires_at:
        return _message(404, None, "en", "not_found")
    try:
        own_host = urlsplit(link.url).hostname or ""
    except ValueError:
        own_host = ""
    destination = safe_destination(link.url, [own_host] if own_host else [])
    if destination is None:
        return _message(404, None, "en", "not_found")
    if isinstance((link.reward or {}).get("points"), int):  # a claim needs the account: later
        return _message(503, None, "en", "claim_failed")
    return Answer.redirect(destination)


def claim_reward(deps, token: str, *, accept_language: Optional[str] = None, now: Optional[datetime] = None) -> Answer:
    """``POST /r/{token}``: the claim page's button. Grants the link's bonus points once."""
    now = now or deps.clock()
    found = _resolve(deps, token, now, accept_language)
    if isinstance(found, Answer):
        return found
    shop, link, _ = found
    points = (link.reward or {}).get("points")
    reward_id = (link.reward or {}).get("reward_id") or link.subject
    if not isinstance(points, int) or points <= 0:
        return _message(404, shop, resolve_locale(accept_language, shop.default_locale), "not_found")
    repo = deps.repos.loyalty(shop.shop_id)
    event_id = keys.claim_event_id(reward_id, link.customer_id)

    def attempt() -> Answer:
        account = repo.load_account(link.customer_id)
        locale = resolve_locale(account.locale if account else None, accept_language, shop.default_locale)
        if account is None or account.redacted:
            return _message(404, shop, locale, "not_found")
        if repo.event_seen(event_id):
            return _message(200, shop, locale, "already_claimed", balance=_points(locale, account.points_balance))
        account.earn(points, lot_id=f"claim-{reward_id}", cause=f"claim:{reward_id}", now=now, kind="bonus",
                     expires_at=add_months(now, shop.program.points_validity_months),
                     detail={"send_key": link.send_key})
        # Another claim (or any change to the customer) coming first makes this fail: look again.
        repo.commit(Change(account=account, event_id=event_id, event_topic="reward_claim", keep_event=True), now)
        _count(deps, shop.shop_id, link.subject, {"points_claimed": points, "claims": 1}, link.customer_id)
        logger.info("reward claimed: shop=%s subject=%s points=%d", shop.shop_id, link.subject, points)
        return _message(200, shop, locale, "claimed", points=_points(locale, points, _BONUS_POINTS),
                        balance=_points(locale, account.points_balance))

    return retry_on_conflict(attempt, attempts=_CLAIM_ATTEMPTS, exhausted=lambda: _message(
        503, shop, resolve_locale(accept_language, shop.default_locale), "claim_failed"))


# -- the steps ----------------------------------------------------------------------
def _resolve(deps, token: str, now: datetime, accept_language: Optional[str] = None):
    """(shop, link, destination), or the 404 page to answer."""
    link = deps.tokens.read_tracked_link(token)
    if link is None or not shops.valid_shop_id(link.shop_id):
        return _broken_link(deps, token, accept_language)
    try:
        shop = load_shop(deps, link.shop_id)
    except NotFound:
        return _message(404, None, resolve_locale(accept_language), "not_found")
    # The reader's language first, as every other page of a link (an English mail's reader in a
    # Ukrainian shop read its expiry in Ukrainian); the shop's when the browser names none we write.
    locale = resolve_locale(accept_language, shop.default_locale)
    if now > link.expires_at:
        return _message(404, shop, locale, "expired")
    destination = safe_destination(link.url, shop.link_hosts)
    if destination is None:
        logger.warning("tracked link to a host the shop does not name: shop=%s", shop.shop_id)
        return _message(404, shop, locale, "not_found")
    return shop, link, destination


def _broken_link(deps, token: str, accept_language: Optional[str]) -> Answer:
    """A link that fails its signature (cut by an e-mail client, mistyped): the page speaks the
    reader's language (else the shop's) and leads to the shop the token names, if it is ours."""
    shop = None
    shop_id = deps.tokens.shop_named_by(token)
    if shop_id and shops.valid_shop_id(shop_id):
        try:
            shop = load_shop(deps, shop_id)
        except NotFound:
            shop = None
    return _message(404, shop, resolve_locale(accept_language, shop.default_locale if shop else None), "not_found")


def _variant_click(deps, shop_id: str, link: tokens.TrackedLink) -> dict:
    """An A/B test's first click on an e-mail also counts for its variant (the customer's campaign
    group, recorded when it was sent, says which): one read, on first clicks of campaign mail only."""
    if not link.subject.startswith("campaign:"):
        return {}
    group = deps.repos.campaign_groups(shop_id).get(link.customer_id)
    if group is None or group.variant is None or f"campaign:{group.campaign_id}" != link.subject:
        return {}
    return {f"variant_{group.variant}_unique_clicks": 1}


def _record_click(deps, shop, link: tokens.TrackedLink, now: datetime) -> None:
    """Count the click; a failure here must not keep the customer from the shop."""
    try:
        first = deps.repos.clicks(shop.shop_id).record(link.customer_id, Click(link.subject, link.send_key, now))
        counts = {"clicks": 1, **({"unique_clicks": 1} if first else {})}
        if first:
            counts.update(_variant_click(deps, shop.shop_id, link))
        _count(deps, shop.shop_id, link.subject, counts, link.customer_id)
    except Exception:
        logger.warning("could not record a click: shop=%s", shop.shop_id, exc_info=True)


def _count(deps, shop_id: str, subject: str, counts: dict, spread_by: str) -> None:
    try:
        deps.repos.results(shop_id, subject).add_many(counts, spread_by)
    except Exception:
        logger.warning("could not count %s", sorted(counts), exc_info=True)


def _land_with_code(deps, shop, link, destination: str, code: str, accept_language, now: datetime) -> Answer:
    found = deps.repos.loyalty(shop.shop_id).load_code(code)
    usable = found is not None and found.customer_id in (None, link.customer_id) and found.refusal(now) is None
    landing = with_code(shop.platform, destination, code)
    if landing:  # a code that does not work now is not applied: the customer still reaches the page
        return Answer.redirect(landing if usable else destination)
    locale = resolve_locale(accept_language, shop.default_locale)
    texts = TEXTS[locale]
    if not usable:
        body = (f'<h1>{escape(texts["code_unusable_title"])}</h1>\n'
                f'<p class="muted">{escape(code)}</p>\n'
                f'<a class="button primary" href="{escape(destination)}">{escape(texts["continue"])}</a>\n')
    else:
        body = (f'<h1>{escape(texts["code_title"])}</h1>\n<div class="code">{escape(code)}</div>\n'
                f'<p class="muted">{escape(texts["code_body"])}</p>\n'
                f'<a class="button primary" href="{escape(destination)}">{escape(texts["continue"])}</a>\n')
    return Answer(200, document(locale, texts["code_title"], body, shop=shop))


def _claim_page(deps, shop, link, accept_language, now: datetime) -> Answer:
    repo = deps.repos.loyalty(shop.shop_id)
    account = repo.load_profile(link.customer_id)
    locale = resolve_locale(account.locale if account else None, accept_language, shop.default_locale)
    if account is None or account.redacted:
        return _message(404, shop, locale, "not_found")
    points = link.reward["points"]
    reward_id = link.reward.get("reward_id") or link.subject
    if repo.event_seen(keys.claim_event_id(reward_id, link.customer_id)):
        return _message(200, shop, locale, "already_claimed", balance=_points(locale, account.points_balance))
    texts = TEXTS[locale]
    title = texts["claim_title"].format(points=_points(locale, points, _BONUS_POINTS))
    body = (f'<h1>{escape(title)}</h1>\n<p>{escape(texts["claim_body"])}</p>\n'
            f'<form method="post"><button type="submit" class="primary">{escape(texts["claim_button"])}</button>'
            f'</form>\n')
    return Answer(200, document(locale, title, body, shop=shop, back_text=texts["back"]))


def _message(status: int, shop, locale: str, kind: str, **values) -> Answer:
    texts = TEXTS[locale]
    title = texts[f"{kind}_title"].format(**values)
    body = f'<h1>{escape(title)}</h1>\n<p>{escape(texts[f"{kind}_body"].format(**values))}</p>\n'
    return Answer(status, document(locale, title, body, shop=shop, back_text=texts["back"]))


# Numbers of points in words that agree with them, by each language's plural rule (CLDR's, through
# Babel): "1 бонусний бал", "3 бонусні бали", "21 бонусний бал". A number spliced into one fixed
# phrase read "Отримайте 1 бонусних балів". ``other`` is the fractions' form in ru and uk.
_BONUS_POINTS = {
    "en": {"one": "{n} bonus point", "other": "{n} bonus points"},
    "de": {"one": "{n} Bonuspunkt", "other": "{n} Bonuspunkte"},
    "ru": {"one": "{n} бонусный балл", "few": "{n} бонусных балла", "many": "{n} бонусных баллов",
           "other": "{n} бонусного балла"},
    "uk": {"one": "{n} бонусний бал", "few": "{n} бонусні бали", "many": "{n} бонусних балів",
           "other": "{n} бонусного бала"},
}
_POINTS = {
    "en": {"one": "{n} point", "other": "{n} points"},
    "de": {"one": "{n} Punkt", "other": "{n} Punkte"},
    "ru": {"one": "{n} балл", "few": "{n} балла", "many": "{n} баллов", "other": "{n} балла"},
    "uk": {"one": "{n} бал", "few": "{n} бали", "many": "{n} балів", "other": "{n} бала"},
}


def _points(locale: str, points: int, words: dict[str, dict[str, str]] = _POINTS) -> str:
    from babel import Locale
    from babel.numbers import format_decimal

    forms = words[locale]
    form = forms.get(Locale.parse(locale).plural_form(points), forms["other"])
    return form.format(n=format_decimal(points, locale=locale))
