"""What the workspace's template editor needs beyond saving: a live preview of unsaved
MJML with a sample customer, a test send to a confirmed test recipient, and the saved revisions
(history, diff against the editor, rollback).

A preview renders exactly like a real send (the shop's settings and program, the
compiled MJML, Jinja with StrictUndefined) but with a sample customer the marketer
picks, so an error shows the same line the sender would hit.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import timedelta
from typing import Optional

from chalicelib.errors import BadRequest, NotFound
from chalicelib.services.templates import templates
from chalicelib.services.shops.lookup import load_shop

TEST_SUBJECT_PREFIX = "[TEST] "
SAMPLE_CUSTOMERS = {
    "regular": "Silver member, three orders, points expiring soon",
    "gold": "Gold member, big spender",
    "new": "New member: no orders yet, a welcome bonus",
    "no_name": "A customer without a first name",
    "lapsed": "Last order three months ago",
}
# A revision's id is its save time without separators (20261201T140312123456Z): safe in a path as is.
_REVISION = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\d{6})Z$")


def revision_id(saved_at: str) -> str:
    return re.sub(r"[-:.]", "", saved_at)


def _saved_at(revision: str) -> str:
    match = _REVISION.match(revision or "")
    if not match:
        raise BadRequest("revision: a revision id as listed (its save time, e.g. 20261201T140312123456Z)",
                         field="revision")
    year, month, day, hour, minute, second, micro = match.groups()
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{micro}Z"


def sample_customers() -> dict:
    return {"sample_customers": [{"id": key, "description": text} for key, text in SAMPLE_CUSTOMERS.items()],
            "default": "regular"}


def preview_template(deps, shop_id: str, template: str, body: dict) -> dict:
    """Render posted (unsaved) MJML, or the saved template when none is posted.

    Answers 200 with ``ok`` false and the error's message and line when the template
    does not render: a live preview shows the error, it is not a failed request. A template
    over a limit (its render budget, MJML nesting, size) is refused with 400 naming the limit:
    it would fail every send, whatever the customer."""
    from chalicelib.mail.rendering import TemplateError, TemplateLimitError

    shop = load_shop(deps, shop_id)
    templates._known(template)
    locale, customer = _locale_and_customer(body, shop)
    shop = with_unsaved_brand(shop, body.get("brand"))
    try:
        parts = templates.checked_parts(body)
        rendered = _render(deps, shop, template, body.get("mjml"), locale, customer, parts, body.get("texts"))
    except TemplateLimitError as error:
        field = templates._part_of(error)
        raise BadRequest(f"{field}: {error}", field=field, line=getattr(error, "line", None)) from None
    except TemplateError as error:
        source = getattr(error, "source", None) or ""
        line = getattr(error, "line", None)
        # A line in the edited body is marked in the editor; one in the shared layout or the
        # text template is only named in the message.
        return {"ok": False, "template": template, "locale": locale, "sample_customer": customer,
                "error": str(error), "line": line, "source": source or None,
                "editor_line": line if source.startswith("override") else None,
                "explanation": _explained(deps, shop, template, locale, customer, error,
                                          body.get("mjml") if source.startswith("override") else None)}
    saved = deps.repos.templates(shop_id).get(template) if body.get("mjml") is None else None
    warnings = (templates.divergence(body["mjml"], parts) if body.get("mjml") is not None
                else templates.divergence(saved.mjml, saved.parts) if saved and saved.mjml is not None else [])
    return {"ok": True, "template": template, "locale": locale, "sample_customer": customer,
            "subject": rendered.subject, "preheader": rendered.preheader, "html": rendered.html,
            "text": rendered.text, "warnings": warnings}


def with_unsaved_brand(shop, brand):
    """``shop`` wearing a posted, unsaved brand (the Brand page's live preview), checked like a
    saved one: a bad value is refused naming ``brand.<field>``."""
    if brand is None:
        return shop
    from pydantic import ValidationError

    from chalicelib.services.shops.shop_settings import BrandSettings
    from chalicelib.services.validation import bad_request_from

    if not isinstance(brand, dict):
        raise BadRequest("brand: must be an object (the shop settings' brand)", field="brand")
    try:
        return replace(shop, brand=BrandSettings.model_validate(brand).to_brand())
    except ValidationError as error:
        raise bad_request_from(error, prefix="brand") from None


def send_test(deps, shop_id: str, template: str, body: dict, sent_by: str, *, now=None) -> dict:
    """Send the (unsaved) template to one of the shop's confirmed test recipients: marked
    ``[TEST]``, from the shop's verified sender, through the configuration set (bounces and
    complaints count against the shop like any mail), within the shop's hourly test-send
    limit; no send log, consent or cap check, and no results counted."""
    from chalicelib.mail.rendering import TemplateError
    from chalicelib.services.templates.test_recipients import require_confirmed, require_sender_ready

    shop = load_shop(deps, shop_id)
    now = now or deps.clock()
    templates._known(template)
    require_confirmed(deps, shop_id, body.get("to"))
    require_sender_ready(deps, shop, now)
    locale, customer = _locale_and_customer(body, shop)
    try:
        rendered = _render(deps, shop, template, body.get("mjml"), locale, customer, body.get("texts"))
    except TemplateError as error:
        raise BadRequest(f"mjml: {error}", field="mjml", line=getattr(error, "line", None)) from None
    answer = deliver_test(deps, shop, template, body.get("to"), rendered, sent_by, now=now)
    return {**answer, "locale": locale, "sample_customer": customer}


def deliver_test(deps, shop, template: str, to, rendered, sent_by: str, *, now=None) -> dict:
    """A rendered e-mail to one of the shop's confirmed test recipients, marked [TEST] (the
    template editor's and the campaign planner's test sends)."""
    from chalicelib.mail.messenger import SendError
    from chalicelib.mail.mime import InvalidAddress, build_message
    from chalicelib.services.templates.test_recipients import require_confirmed, require_sender_ready, take_test_send_slot

    now = now or deps.clock()
    shop_id = shop.shop_id
    to = require_confirmed(deps, shop_id, to)
    require_sender_ready(deps, shop, now)
    try:
        raw = build_message(from_name=shop.name, from_address=shop.sender_email, to_address=to,
                            subject=TEST_SUBJECT_PREFIX + rendered.subject, html=rendered.html, text=rendered.text,
                            now=now, reply_to=shop.reply_to)
    except InvalidAddress as error:
        raise BadRequest(f"to: {error}", field="to") from None
    take_test_send_slot(deps, shop_id, now)
    try:
        message_id = deps.messenger.send_raw(
            sender=shop.sender_email, recipient=to, raw=raw, configuration_set=deps.config.ses_configuration_set,
            tags={"shop": shop_id, "template": template, "category": "test", "sent_by": sent_by})
    except SendError as error:
        raise BadRequest(f"to: the test could not be sent ({error})", field="to") from None
    return {"sent": True, "to": to, "subject": TEST_SUBJECT_PREFIX + rendered.subject,
            "ses_message_id": message_id}


def list_revisions(deps, shop_id: str, template: str) -> dict:
    load_shop(deps, shop_id)
    templates._known(template)
    current = deps.repos.templates(shop_id).get(template)
    return {"template": template, "current_version": current.version if current else 0,
            "revisions": [{"revision": revision_id(r.revision), "version": r.version, "saved_at": r.saved_at,
                           "saved_by": r.saved_by, "note": r.note,
                           "current": bool(current) and r.version == current.version}
                          for r in deps.repos.templates(shop_id).revisions(template)]}


def get_revision(deps, shop_id: str, template: str, revision: str) -> dict:
    """A saved revision's MJML and its line diff against the template as it is now."""
    from chalicelib.mail.rendering import TemplateSet

    load_shop(deps, shop_id)
    templates._known(template)
    found = _revision(deps, shop_id, template, revision)
    now = templates.get_template(deps, shop_id, template)
    current = deps.repos.templates(shop_id).get(template)
    mjml = found.mjml if found.mjml is not None else TemplateSet.default().source(template)[1].text
    names = dict(fromfile=f"current (version {now['version']})", tofile=f"version {found.version} ({found.saved_at})",
                 lineterm="")
    diff = difflib.unified_diff(now["mjml"].splitlines(), mjml.splitlines(), **names)
    texts_diff = difflib.unified_diff(_text_lines(current.texts if current else {}), _text_lines(found.texts),
                                      **names)
    return {"template": template, "revision": revision_id(found.revision), "version": found.version,
            "saved_at": found.saved_at, "saved_by": found.saved_by, "note": found.note, "mjml": mjml,
            "default_body": found.mjml is None, "texts": found.texts,
            "diff": "\n".join(diff), "texts_diff": "\n".join(texts_diff)}


def _text_lines(texts: dict) -> list[str]:
    """The shop's words one per line (``de post_purchase.subject: …``), for a diff."""
    import json

    return [f"{locale} {key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value}"
            for locale in sorted(texts) for key, value in sorted(texts[locale].items())]


def roll_back(deps, shop_id: str, template: str, revision: str, body: dict, saved_by: str) -> dict:
    """Make an old revision current again: saved as a new version (the history keeps growing)."""
    from chalicelib.errors import Conflict
    from chalicelib.store.templates.templates import OverrideChanged

    found = _revision(deps, shop_id, template, revision)
    note = f"rollback to version {found.version} ({found.saved_at})"
    if found.mjml is not None:
        return templates.put_template(deps, shop_id, template, {"mjml": found.mjml, "version": body.get("version", 0),
                                                                **found.parts},
                                      saved_by=saved_by, note=note, texts=found.texts)
    load_shop(deps, shop_id)
    expected = body.get("version", 0)
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise BadRequest("version: the version you edited (0 for the default)", field="version")
    try:  # a revision of the shop's words over the default body
        stored = deps.repos.templates(shop_id).save(template, None, expected, deps.clock(), saved_by=saved_by,
                                                    note=note, texts=found.texts)
    except OverrideChanged:
        raise Conflict("version: the template was saved by someone else since you read it; reload it",
                       field="version") from None
    deps.caches.templates.pop(shop_id)
    return {"template": template, "overridden": False, "version": stored.version}


def _revision(deps, shop_id: str, template: str, revision: str):
    found = deps.repos.templates(shop_id).revision(template, _saved_at(revision))
    if found is None:
        raise NotFound(f"revision: {template} has no revision {revision!r}", field="revision")
    return found


def _locale_and_customer(body: dict, shop) -> tuple[str, str]:
    from chalicelib.mail.rendering import LOCALES

    locale = body.get("locale") or shop.default_locale
    if not isinstance(locale, str) or locale not in LOCALES:
        raise BadRequest(f"locale: one of {', '.join(LOCALES)}", field="locale")
    customer = body.get("sample_customer") or "regular"
    if not isinstance(customer, str) or customer not in SAMPLE_CUSTOMERS:
        raise BadRequest(f"sample_customer: one of {', '.join(SAMPLE_CUSTOMERS)}", field="sample_customer")
    return locale, customer


def _render(deps, shop, template: str, mjml: Optional[str], locale: str, customer: str,
            parts: Optional[dict] = None, texts=None):
    """The e-mail as the shop's customers would get it (its saved body and words, or the posted
    unsaved ones), for a sample customer whose dates lie around today."""
    from chalicelib.mail.texts import CatalogPatch
    from chalicelib.services.templates.texts import checked_texts

    template_set = templates.template_set_for(deps, shop.shop_id)
    if mjml is not None:
        mjml = templates.checked_mjml(mjml)
        template_set = template_set.with_overrides({template: (f"candidate-{abs(hash(mjml))}", mjml, parts or {})})
    if texts is not None:
        template_set = template_set.with_texts({(template, locale): CatalogPatch.of(
            checked_texts(template, locale, texts))})
    return template_set.render(template, locale, _sample_context(deps, shop, template, locale, customer))


def _explained(deps, shop, template: str, locale: str, customer: str, error, mjml: Optional[str]) -> Optional[str]:
    """The error in plain words, with the names the sample context does have."""
    from chalicelib.mail.explain import in_plain_words

    try:
        context = _sample_context(deps, shop, template, locale, customer)
    except Exception:  # noqa: BLE001 - without a context the raw message is all there is
        context = None
    return in_plain_words(getattr(error, "message", str(error)), getattr(error, "line", None), mjml, context)


def _sample_context(deps, shop, template: str, locale: str, customer: str) -> dict:
    from chalicelib.mail.contexts import SAMPLE_NOW, sample_data, sample_links
    from chalicelib.mail.rendering import build_context

    shop_for_locale = replace(shop, default_locale=locale)
    shift = deps.clock().date() - SAMPLE_NOW.date()
    account = _shifted_account(_sample_customer(customer, locale, shop_for_locale, template), shift)
    return build_context(template, shop=shop_for_locale, account=account,
                         data=_shifted(sample_data(template, locale, shop_for_locale), shift),
                         links=sample_links(locale), now=SAMPLE_NOW + shift)


def _shifted(value, shift: timedelta):
    """Sample data with every date moved by ``shift`` (the samples are written around SAMPLE_NOW)."""
    from datetime import date

    if isinstance(value, date):  # datetime too
        return value + shift
    if isinstance(value, dict):
        return {key: _shifted(item, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [_shifted(item, shift) for item in value]
    return value


def _shifted_account(account, shift: timedelta):
    for name in ("created_at", "last_order_at"):
        if getattr(account, name, None) is not None:
            setattr(account, name, getattr(account, name) + shift)
    account.lots = [replace(lot, **{name: getattr(lot, name) + shift for name in ("earned_at", "expires_at")
                                    if getattr(lot, name, None) is not None}) for lot in account.lots]
    return account


def _sample_customer(customer: str, locale: str, shop, template: str):
    from chalicelib.domain.money import to_minor
    from chalicelib.mail.contexts import SAMPLE_NOW, sample_account

    account = sample_account(locale, shop, template)
    account.locale = locale
    top = shop.program.tiers[-1] if shop.program.tiers else None
    if customer == "gold" and top is not None:
        account.lifetime_spend_minor = to_minor(top.min_spend, shop.currency_exponent) * 2
        account.refresh_tier(shop.program, SAMPLE_NOW, shop.currency_exponent)
        account.orders_count = 14
    elif customer == "new":
        account.lots = account.lots[:1]
        account.points_balance = sum(lot.points for lot in account.lots)
        account.orders_count, account.lifetime_spend_minor, account.cashback_minor = 0, 0, 0
        account.tier_name, account.discount_percent, account.last_order_at = None, "0", None
    elif customer == "no_name":
        account.first_name = None
    elif customer == "lapsed":
        account.last_order_at = SAMPLE_NOW - timedelta(days=97)
    return account
