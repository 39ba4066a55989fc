"""No campaign leaves unseen: what the planner shows before a campaign is scheduled.

``preview_campaign`` takes the same document as a new campaign and answers:

* **audience**: the segment's members and who of them will actually get the e-mail at the send
  time, after consent, unsubscribes, the suppression list and the marketing cap (the sender's own
  rule, ``domain/mail/eligibility.refusal``), counted by reason and by locale;
* **previews**: the e-mail rendered with the campaign's real data and offer, for a real recipient
  of each locale it will reach (a sample customer where the segment has none yet), with the shop's
  own template and words;
* **times** in the shop's time zone (and UTC): the send time and the offer's window.

``test_send_campaign`` sends one locale's rendering to a confirmed test recipient, marked [TEST].
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.mail import eligibility
from chalicelib.errors import BadRequest
from chalicelib.services.campaigns.campaigns import prepare_campaign
from chalicelib.services.campaigns.segments import iter_segment
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys

# Past this many members the audience is counted on the first ones and says so.
AUDIENCE_READ_LIMIT = 5_000
PREVIEW_CODE = "PREVIEW-CODE"
_PLANNER_FIELDS = {"locales", "locale", "to"}


def preview_campaign(deps, shop_id: str, body: dict) -> dict:
    shop = load_shop(deps, shop_id)
    document, wanted = _split(body)
    settings, data, send_at = prepare_campaign(deps, shop, document)
    audience, samples = _audience(deps, shop, settings.segment, send_at)
    locales = wanted or sorted(audience["by_locale"]) or [shop.default_locale]
    previews = {locale: _render(deps, shop, settings, data, send_at, locale, samples.get(locale))
                for locale in locales}
    return {"audience": audience, "previews": previews, "times": _times(shop, send_at, settings.offer)}


def test_send_campaign(deps, shop_id: str, body: dict, sent_by: str) -> dict:
    from chalicelib.services.templates.template_workspace import deliver_test

    shop = load_shop(deps, shop_id)
    document, wanted = _split(body)
    locale = (wanted or [shop.default_locale])[0]
    settings, data, send_at = prepare_campaign(deps, shop, document)
    _, samples = _audience(deps, shop, settings.segment, send_at, limit=200)
    rendered = _rendered(deps, shop, settings, data, send_at, locale, samples.get(locale))
    answer = deliver_test(deps, shop, settings.template, body.get("to"), rendered, sent_by)
    answer["locale"] = locale
    return answer


def _split(body: dict) -> tuple[dict, list[str]]:
    from chalicelib.mail.rendering import LOCALES

    document = {key: value for key, value in body.items() if key not in _PLANNER_FIELDS}
    wanted = body.get("locales", [body["locale"]] if "locale" in body else [])
    if not isinstance(wanted, list) or not all(isinstance(l, str) and l in LOCALES for l in wanted) or len(wanted) > 4:
        raise BadRequest(f"locales: a list of {', '.join(LOCALES)}", field="locales")
    return document, list(dict.fromkeys(wanted))


def _audience(deps, shop, segment: dict, send_at: datetime, limit: int = AUDIENCE_READ_LIMIT):
    """Who of the segment would get the e-mail at ``send_at``, by reason and locale, and one
    member per locale to preview with (a receiving one where there is one)."""
    from chalicelib.mail.base import resolve_locale

    mail = deps.repos.mail(shop.shop_id)
    counts = {"members": 0, "receiving": 0, "skipped": {}, "by_locale": {}, "complete": True}
    receiving: dict[str, object] = {}
    skipped: dict[str, object] = {}
    for account, _, _ in iter_segment(deps, shop, segment, deps.clock()):
        if counts["members"] >= limit:
            counts["complete"] = False
            break
        counts["members"] += 1
        prefs = mail.load_prefs(account.customer_id)
        reason = eligibility.refusal(account, marketing=True, unsubscribed=prefs.unsubscribed,
                                     marketing_sends=prefs.marketing_sends, cap=shop.marketing_cap, now=send_at,
                                     idempotency_key=f"campaign:preview:{account.customer_id}")
        if reason is None and account.email and mail.is_suppressed(account.email):
            reason = "suppressed"
        locale = resolve_locale(account.locale, shop.default_locale)
        if reason:
            counts["skipped"][reason] = counts["skipped"].get(reason, 0) + 1
            skipped.setdefault(locale, account)
            continue
        counts["receiving"] += 1
        counts["by_locale"][locale] = counts["by_locale"].get(locale, 0) + 1
        receiving.setdefault(locale, account)
    return counts, {**skipped, **receiving}


def _render(deps, shop, settings, data: dict, send_at: datetime, locale: str, member) -> dict:
    from chalicelib.mail.rendering import TemplateError

    try:
        rendered = _rendered(deps, shop, settings, data, send_at, locale, member)
    except BadRequest as error:
        return {"ok": False, "error": error.message}
    except TemplateError as error:
        return {"ok": False, "error": error.in_plain_words()}
    return {"ok": True, "subject": rendered.subject, "preheader": rendered.preheader, "html": rendered.html,
            "text": rendered.text, "recipient": member.email if member else None,
            "sample": member is None}


def _rendered(deps, shop, settings, data: dict, send_at: datetime, locale: str, member):
    """The e-mail one recipient of ``locale`` gets: their own account (a sample one when the
    segment has nobody in that locale), the campaign's data and offer, the shop's templates."""
    from dataclasses import replace

    from chalicelib.mail.contexts import sample_account, sample_links
    from chalicelib.mail.rendering import TemplateError, build_context
    from chalicelib.services.templates.templates import template_set_for

    if member is not None:
        account = deps.repos.loyalty(shop.shop_id).load_account(member.customer_id) or member
    else:
        account = sample_account(locale, shop, settings.template)
    account = replace(account, locale=locale)
    values = dict(data)
    if settings.offer and settings.offer.codes and "code" not in values:
        values["code"] = PREVIEW_CODE  # each recipient's own code is made when the page is queued
    try:
        context = build_context(settings.template, shop=shop, account=account, data=values,
                                links=sample_links(locale), now=send_at)
        return template_set_for(deps, shop.shop_id).render(settings.template, locale, context)
    except TemplateError as error:
        raise BadRequest(f"data: {error.in_plain_words()}", field="data") from None


def _times(shop, send_at: datetime, offer) -> dict:
    zone = ZoneInfo(shop.timezone)

    def both(moment: Optional[datetime]) -> Optional[dict]:
        if moment is None:
            return None
        aware = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        return {"shop_time": aware.astimezone(zone).isoformat(), "utc": keys.iso(aware.astimezone(timezone.utc))}

    return {"timezone": shop.timezone, "send_at": both(send_at),
            "offer_from": both(offer.valid_from) if offer else None,
            "offer_until": both(offer.valid_until) if offer else None}
