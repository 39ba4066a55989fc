"""The unsubscribe page behind ``/u/{token}`` (no login: the signed token is the key).

- ``GET``: a small page in the customer's language (en, de, ru, uk) naming the shop,
  with one button: unsubscribe, or subscribe again when already unsubscribed. A GET
  never changes anything (mail scanners and link previews fetch links).
- ``POST``: RFC 8058 one-click from mail clients (body ``List-Unsubscribe=One-Click``,
  form-urlencoded or multipart/form-data) unsubscribes at once; the page's form posts
  ``action=unsubscribe`` or ``action=resubscribe``.

An invalid or tampered token gets a friendly 404 page that says nothing more.
Unsubscribing stops marketing mail only; mail about orders, points and codes still
goes out (and suppression after a hard bounce or complaint stops everything).
"""
from __future__ import annotations

import functools
import logging
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Mapping, Optional
from urllib.parse import parse_qs

from chalicelib.mail.pages import document, escape
from chalicelib.errors import NotFound, PayloadTooLarge
from chalicelib.platforms.body import MAX_BODY_BYTES, refuse_oversized
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.store.mail.mail_store import MailPrefs
from chalicelib.mail.base import resolve_locale

logger = logging.getLogger("loyalty.unsubscribe")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "E-mail preferences",
        "subscribed_title": "Unsubscribe from {shop} e-mails?",
        "subscribed_body": "You will no longer receive offers and news from {shop}. "
                           "E-mails about your orders and points will still arrive.",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed_body": "{shop} will not send you offers and news any more. "
                             "E-mails about your orders and points will still arrive.",
        "resubscribe_button": "Subscribe again",
        "resubscribed_title": "You are subscribed again",
        "resubscribed_body": "{shop} may send you offers and news again.",
        "back": "Back to the shop",
        "not_found_title": "This link does not work",
        "not_found_body": "It may be incomplete. Copy the whole link from the e-mail, "
                          "or use the unsubscribe link in a newer e-mail.",
        "bad_request_title": "That did not work",
        "bad_request_body": "Please reload the page and try again.",
        "too_large_title": "The form was too large",
        "too_large_body": "The form sent was over {limit} and was not read. Please reload the page and try again.",
        "error_title": "Something went wrong on our side",
        "error_body": "Please try again in a few minutes.",
    },
    "de": {
        "page_title": "E-Mail-Einstellungen",
        "subscribed_title": "E-Mails von {shop} abbestellen?",
        "subscribed_body": "Sie erhalten dann keine Angebote und Neuigkeiten mehr von {shop}. "
                           "E-Mails zu Ihren Bestellungen und Punkten bekommen Sie weiterhin.",
        "unsubscribe_button": "Abbestellen",
        "unsubscribed_title": "Sie sind abgemeldet",
        "unsubscribed_body": "{shop} schickt Ihnen keine Angebote und Neuigkeiten mehr. "
                             "E-Mails zu Ihren Bestellungen und Punkten bekommen Sie weiterhin.",
        "resubscribe_button": "Wieder anmelden",
        "resubscribed_title": "Sie sind wieder angemeldet",
        "resubscribed_body": "{shop} darf Ihnen wieder Angebote und Neuigkeiten schicken.",
        "back": "Zurück zum Shop",
        "not_found_title": "Dieser Link funktioniert nicht",
        "not_found_body": "Vielleicht ist er unvollständig. Kopieren Sie den ganzen Link aus der E-Mail "
                          "oder nutzen Sie den Abmeldelink einer neueren E-Mail.",
        "bad_request_title": "Das hat nicht geklappt",
        "bad_request_body": "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "too_large_title": "Das Formular war zu groß",
        "too_large_body": "Das gesendete Formular war größer als {limit} und wurde nicht gelesen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "error_title": "Bei uns ist etwas schiefgelaufen",
        "error_body": "Bitte versuchen Sie es in ein paar Minuten noch einmal.",
    },
    "ru": {
        "page_title": "Настройки рассылки",
        "subscribed_title": "Отписаться от писем {shop}?",
        "subscribed_body": "Вы больше не будете получать предложения и новости от {shop}. "
                           "Письма о ваших заказах и баллах будут приходить по-прежнему.",
        "unsubscribe_button": "Отписаться",
        "unsubscribed_title": "Вы отписались",
        "unsubscribed_body": "{shop} больше не будет присылать вам предложения и новости. "
                             "Письма о ваших заказах и баллах будут приходить по-прежнему.",
        "resubscribe_button": "Подписаться снова",
        "resubscribed_title": "Вы снова подписаны",
        "resubscribed_body": "{shop} снова может присылать вам предложения и новости.",
        "back": "Вернуться в магазин",
        "not_found_title": "Эта ссылка не работает",
        "not_found_body": "Возможно, она неполная. Скопируйте ссылку из письма целиком "
                          "или воспользуйтесь ссылкой для отписки в более новом письме.",
        "bad_request_title": "Что-то пошло не так",
        "bad_request_body": "Обновите страницу и попробуйте ещё раз.",
        "too_large_title": "Форма слишком большая",
        "too_large_body": "Отправленная форма больше {limit} и не была прочитана. Обновите страницу и попробуйте ещё раз.",
        "error_title": "У нас что-то сломалось",
        "error_body": "Попробуйте ещё раз через несколько минут.",
    },
    "uk": {
        "page_title": "Налаштування розсилки",
        "subscribed_title": "Відписатися від листів {shop}?",
        "subscribed_body": "Ви більше не отримуватимете пропозицій і новин від {shop}. "
                           "Листи про ваші замовлення та бали надходитимуть і далі.",
        "unsubscribe_button": "Відписатися",
        "unsubscribed_title": "Ви відписалися",
        "unsubscribed_body": "{shop} більше не надсилатиме вам пропозицій і новин. "
                             "Листи про ваші замовлення та бали надходитимуть і далі.",
        "resubscribe_button": "Підписатися знову",
        "resubscribed_title": "Ви знову підписані",
        "resubscribed_body": "{shop} знову може надсилати вам пропозиції та новини.",
        "back": "Повернутися до магазину",
        "not_found_title": "Це посилання не працює",
        "not_found_body": "Можливо, воно неповне. Скопіюйте посилання з листа повністю "
                          "або скористайтеся посиланням для відписки в новішому листі.",
        "bad_request_title": "Щось пішло не так",
        "bad_request_body": "Оновіть сторінку та спробуйте ще раз.",
        "too_large_title": "Форма завелика",
        "too_large_body": "Надіслана форма більша за {limit} і не була прочитана. Оновіть сторінку та спробуйте ще раз.",
        "error_title": "У нас щось зламалося",
        "error_body": "Спробуйте ще раз за кілька хвилин.",
    },
}
_QUOTES = {"en": ("", ""), "de": ("„", "“"), "ru": ("«", "»"), "uk": ("«", "»")}


def _page_errors(view):
    """Any unexpected failure becomes a plain 500 page; the details stay in the log."""

    @functools.wraps(view)
    def wrapper(token, *args, **kwargs):
        try:
            return view(token, *args, **kwargs)
        except Exception:
            logger.exception("unsubscribe page failed")
            query = kwargs.get("query") or (args[0] if args and isinstance(args[0], Mapping) else {}) or {}
            return 500, _message_page(resolve_locale(query.get("lang"), kwargs.get("accept_language")), "error", None)

    return wrapper


@_page_errors
def unsubscribe_page(deps, token: str, query: Optional[Mapping[str, str]] = None, *,
                     accept_language: Optional[str] = None) -> tuple[int, str]:
    """``GET /u/{token}``: the page; changes nothing."""
    query = query or {}
    found = _resolve(deps, token)
    if found is None:
        return _not_found(query, accept_language)
    shop, customer_id = found
    account, prefs = _account(deps, shop.shop_id, customer_id), deps.repos.mail(shop.shop_id).load_prefs(customer_id)
    locale = resolve_locale(query.get("lang"), account.locale if account else None, accept_language,
                            shop.default_locale)
    state = "unsubscribed" if prefs.unsubscribed else "subscribed"
    return 200, _page(locale, shop, state)


@_page_errors
def unsubscribe_post(deps, token: str, form_body: bytes | str | None, *, content_type: Optional[str] = None,
                     query: Optional[Mapping[str, str]] = None,
                     accept_language: Optional[str] = None) -> tuple[int, str]:
    """``POST /u/{token}``: RFC 8058 one-click, or the page's unsubscribe/resubscribe button."""
    query = query or {}
    try:
        refuse_oversized(_raw(form_body))  # the API's one body-size limit, before anything reads it
    except PayloadTooLarge as error:
        logger.info("unsubscribe form refused: %s", error.message)
        return 413, _message_page(resolve_locale(query.get("lang"), accept_language), "too_large", None,
                                  limit=_size(MAX_BODY_BYTES))
    found = _resolve(deps, token)
    if found is None:
        return _not_found(query, accept_language)
    shop, customer_id = found
    form = parse_form(form_body, content_type)
    if form.get("List-Unsubscribe") == "One-Click":
        action, source = "unsubscribe", "one_click"
    else:
        action, source = form.get("action"), "page"
    store = deps.repos.mail(shop.shop_id)
    now = deps.clock()
    if action == "unsubscribe":
        subject = _subject_of(deps.tokens.read_token(token))
        first_from_subject: list[bool] = []
        store.update_prefs(customer_id, lambda prefs: first_from_subject.append(_unsubscribe(prefs, source, now, subject)))
        if first_from_subject and first_from_subject[-1]:
            _count_unsubscribe(deps, shop.shop_id, customer_id, subject)
        state = "unsubscribed"
    elif action == "resubscribe":
        store.update_prefs(customer_id, lambda prefs: _resubscribe(prefs, now))
        state = "resubscribed"
    else:
        locale = resolve_locale(query.get("lang"), accept_language, shop.default_locale)
        return 400, _message_page(locale, "bad_request", shop)
    logger.info("mail preference change: shop=%s action=%s source=%s", shop.shop_id, action, source)
    account = _account(deps, shop.shop_id, customer_id)
    # The one order every page asks in: lang, the customer's, the browser's, the shop's (mail/base.py).
    locale = resolve_locale(query.get("lang"), account.locale if account else None, accept_language,
                            shop.default_locale)
    return 200, _page(locale, shop, state)


def parse_form(body: bytes | str | None, content_type: Optional[str]) -> dict[str, str]:
    """Fields of a form-urlencoded or multipart/form-data body (first value of each)."""
    if not body:
        return {}
    raw = _raw(body)
    if len(raw) > MAX_BODY_BYTES:
        return {}
    content_type = (content_type or "application/x-www-form-urlencoded").strip()
    if content_type.lower().startswith("multipart/form-data"):
        try:
            message = BytesParser(policy=default_policy).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + raw)
        except (UnicodeEncodeError, ValueError):
            return {}
        fields: dict[str, str] = {}
        if not message.is_multipart():
            return fields
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name and name not in fields:
                try:
                    value = part.get_content()
                except (LookupError, ValueError):
                    continue
                fields[str(name)] = value.strip() if isinstance(value, str) else ""
        return fields
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {name: values[0].strip() for name, values in parse_qs(text, keep_blank_values=True).items()}


# -- state changes ------------------------------------------------------------------
# The subjects a customer's preferences remember having counted an unsubscribe for (the latest kept).
_COUNTED_SUBJECTS_KEPT = 50


def _unsubscribe(prefs: MailPrefs, source: str, now, subject: Optional[str]) -> bool:
    """Unsubscribe; True when ``subject``'s results should count it: the customer's first unsubscribe
    from that campaign's or flow's e-mail. Noted in the same preferences write, so subscribing again
    and unsubscribing again from the same e-mail counts one person once, not each change."""
    if prefs.unsubscribed:
        return False
    prefs.unsubscribed, prefs.unsubscribed_at, prefs.unsubscribe_source = True, now, source
    if not subject or subject in prefs.unsubscribes_counted:
        return False
    prefs.unsubscribes_counted = (prefs.unsubscribes_counted + [subject])[-_COUNTED_SUBJECTS_KEPT:]
    return True


def _subject_of(link) -> Optional[str]:
    """The campaign or flow whose e-mail the link came from (newer links name it)."""
    return link.subject if link is not None and link.subject else None


def _count_unsubscribe(deps, shop_id: str, customer_id: str, subject: str) -> None:
    """In the results of the campaign or flow whose e-mail the link came from."""
    try:
        deps.repos.results(shop_id, subject).add("unsubscribed", customer_id)
    except (KeyError, ValueError):  # a subject this version does not know
        logger.warning("unsubscribe from an unknown subject %r", subject)
    except Exception:  # a lost count must not fail the customer's unsubscribe
        logger.warning("could not count an unsubscribe", exc_info=True)


def _resubscribe(prefs: MailPrefs, now) -> None:
    if prefs.unsubscribed:
        prefs.unsubscribed, prefs.resubscribed_at = False, now


# -- lookups ------------------------------------------------------------------------
def _resolve(deps, token: str):
    link = deps.tokens.read_token(token)
    if link is None or not shops.valid_shop_id(link.shop_id):
        return None
    try:
        shop = load_shop(deps, link.shop_id)
    except NotFound:
        return None
    return shop, link.customer_id


def _account(deps, shop_id: str, customer_id: str):

    return deps.repos.loyalty(shop_id).load_profile(customer_id)


# -- pages --------------------------------------------------------------------------
def _not_found(query: Mapping[str, str], accept_language: Optional[str]) -> tuple[int, str]:
    return 404, _message_page(resolve_locale(query.get("lang"), accept_language), "not_found", None)


def _page(locale: str, shop, state: str) -> str:
    texts = TEXTS[locale]
    shop_name = _shop_name(locale, shop)
    action, button = (("resubscribe", texts["resubscribe_button"]) if state == "unsubscribed"
                      else ("unsubscribe", texts["unsubscribe_button"]))
    body = (f'<h1>{_e(texts[state + "_title"].format(shop=shop_name))}</h1>\n'
            f'<p>{_e(texts[state + "_body"].format(shop=shop_name))}</p>\n'
            f'<form method="post"><input type="hidden" name="action" value="{action}">'
            f'<button type="submit" class="{"secondary" if action == "resubscribe" else "primary"}">'
            f'{_e(button)}</button></form>\n')
    return _document(locale, shop, body)


def _raw(body: bytes | str | None) -> bytes:
    if not body:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KB"


def _message_page(locale: str, kind: str, shop, **values) -> str:
    texts = TEXTS[locale]
    body = f'<h1>{_e(texts[kind + "_title"])}</h1>\n<p>{_e(texts[kind + "_body"].format(**values))}</p>\n'
    return _document(locale, shop, body)


def _document(locale: str, shop, body: str) -> str:
    return document(locale, TEXTS[locale]["page_title"], body, shop=shop, back_text=TEXTS[locale]["back"])


def _shop_name(locale: str, shop) -> str:
    opening, closing = _QUOTES[locale]
    return f"{opening}{shop.name or shop.shop_id}{closing}"


_e = escape
