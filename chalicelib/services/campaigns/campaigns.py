"""Campaigns: planned by the marketer, fanned out through the send queue.

A due campaign is claimed (a versioned write with a lease), then its segment is
read page by page from the saved position; each page's recipients go to SQS
and only then does the position move on, in a write conditioned on the version,
so a pause or cancel stops the sender at the next page and a sender that dies
is succeeded, after its lease, by one that resumes from the last full page.
Each recipient's message carries ``campaign:{id}:{customer}`` as its
idempotency key: a re-queued page sends nobody twice. Consent, unsubscribes,
suppression and the marketing cap are applied per recipient by the sender,
which records each skip with its reason.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Callable, Literal, Optional
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from chalicelib.domain.campaigns.campaigns import PAUSED, Campaign, InvalidTransition
from chalicelib.domain.campaigns import ab_test, local_time, send_time
from chalicelib.domain.places.zones import zone_of
from chalicelib.domain.campaigns.ab_test import MAX_VARIANTS, VARIANT_FIELDS
from chalicelib.domain.campaigns.lift import MAX_HOLDOUT_PERCENT
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.mail import outbox
from chalicelib.services.campaigns.segments import iter_segment, validate_segment
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.validation import bad_request_from
from chalicelib.store import keys
from chalicelib.store.campaigns.results import campaign_results
from chalicelib.store.campaigns.campaigns import CampaignChanged, CampaignStore, due_campaigns

PAGE_SIZE = 100
# Leave the Lambda time to save the position before its 15 minutes end.
SEND_BUDGET_SECONDS = 12 * 60


class OfferSettings(BaseModel):
    """What the campaign gives: a code (one shared by all recipients or one each) and/or
    bonus points each recipient claims once from the e-mail, valid in a window."""

    model_config = ConfigDict(extra="forbid")

    codes: Optional[Literal["shared", "per_customer"]] = None
    discount_percent: Optional[Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]] = None
    free_shipping: bool = False
    min_order: Optional[Annotated[Decimal, Field(ge=0, le=Decimal(10) ** 9, allow_inf_nan=False)]] = None
    max_uses: Optional[Annotated[int, Field(ge=1)]] = None
    bonus_points: Optional[Annotated[int, Field(ge=1, le=1_000_000)]] = None
    valid_from: datetime
    valid_until: datetime

    @model_validator(mode="after")
    def _gives_something_for_a_while(self) -> "OfferSettings":
        if self.codes and self.discount_percent is None and not self.free_shipping:
            raise ValueError("a code gives a discount_percent, free_shipping, or both")
        if not self.codes and (self.discount_percent is not None or self.free_shipping or self.min_order
                               or self.max_uses):
            raise ValueError("discount_percent, free_shipping, min_order and max_uses need 'codes' "
                             "(shared or per_customer)")
        if not self.codes and not self.bonus_points:
            raise ValueError("an offer gives codes, bonus_points, or both")
        if self.max_uses and self.codes != "shared":
            raise ValueError("max_uses is for a shared code (a per-customer code is used once)")
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class VariantSettings(BaseModel):
    """One version of the campaign's words in an A/B test: any of subject, preheader and the
    template's body texts (title, description); what it leaves out stays the campaign's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: Optional[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]] = None
    preheader: Optional[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]] = None
    title: Optional[Annotated[str, Field(min_length=1, max_length=200)]] = None
    description: Optional[Annotated[str, Field(min_length=1, max_length=2000)]] = None

    @model_validator(mode="after")
    def _changes_something(self) -> "VariantSettings":
        if not any(getattr(self, name) for name in VARIANT_FIELDS):
            raise ValueError(f"a variant sets at least one of {', '.join(VARIANT_FIELDS)}")
        return self


class AbTestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The share of recipients the variants are tried on, split evenly; the rest get the winner.
    test_percent: Annotated[int, Field(ge=2, le=100)] = 20
    winner_by: Literal["click_rate", "conversion_rate"] = "click_rate"
    wait_hours: Annotated[int, Field(ge=1, le=168)] = 4


class CampaignSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    template: str
    segment: dict
    # "now" is replaced by the service's clock before the model sees it (_plan): the API takes both.
    send_at: Annotated[datetime, WithJsonSchema({
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "enum": [send_time.NOW]}],
        "description": "when to send (ISO 8601; without an offset, the shop's time), not already past "
                       "(a minute's grace); \"now\" sends at once"})]
    data: dict[str, Any] = Field(default_factory=dict)
    offer: Optional[OfferSettings] = None
    # The share of sendable recipients kept back (sent nothing) to measure the campaign's true lift.
    holdout_percent: Annotated[int, Field(ge=0, le=MAX_HOLDOUT_PERCENT)] = 0
    variants: list[VariantSettings] = Field(default_factory=list, max_length=MAX_VARIANTS)
    ab_test: Optional[AbTestSettings] = None
    # True: send_at's wall-clock time is each recipient's own (10:00 in Kyiv, then 10:00 in Lisbon...).
    local_time: bool = False

    @field_validator("variants")
    @classmethod
    def _two_to_four(cls, variants: list) -> list:
        if len(variants) == 1:
            raise ValueError("an A/B test needs 2 to 4 variants")
        return variants

    @field_validator("ab_test")
    @classmethod
    def _something_to_test(cls, settings, info):
        if settings is not None and not info.data.get("variants"):
            raise ValueError("give the variants to test (2 to 4)")
        return settings

    @field_validator("send_at")
    @classmethod
    def _a_plannable_moment(cls, send_at: datetime) -> datetime:
        # Zones, cap windows and quiet hours move the moment by days: keep it far from datetime's ends.
        if not 2000 <= send_at.year <= 9000:
            raise ValueError("a date and time between the years 2000 and 9000")
        return send_at

    @model_validator(mode="after")
    def _one_moment_for_a_test(self) -> "CampaignSettings":
        if self.local_time and self.variants:
            raise ValueError("local_time: an A/B test sends its test share at one moment to compare the "
                             "variants fairly; plan it at one time (local_time false)")
        return self

    @model_validator(mode="after")
    def _variants_get_a_test(self) -> "CampaignSettings":
        if self.variants and self.ab_test is None:
            self.ab_test = AbTestSettings()
        return self


def create_campaign(deps, shop_id: str, document: dict) -> dict:
    shop, settings, send_at, data, now = _plan(deps, shop_id, document)
    offer = settings.offer
    campaign = Campaign(campaign_id=uuid.uuid4().hex[:12], shop_id=shop_id, name=settings.name,
                        template=settings.template, segment=settings.segment, send_at=send_at,
                        data=data, created_at=now, holdout_percent=settings.holdout_percent,
                        variants=[v.model_dump(exclude_none=True) for v in settings.variants],
                        ab_test=settings.ab_test.model_dump() if settings.ab_test else None,
                        ab_phase="test" if settings.variants else None,
                        local_send_at=_wall_time(settings) if settings.local_time else None,
                        offer=offer.model_dump(mode="json") if offer else None)
    if offer and offer.codes == "shared":
        (shared,) = _issue_codes(deps, campaign, [None], now)
        campaign.data["code"] = shared
    deps.repos.campaigns(shop_id).save(campaign)
    return view(campaign)


SAMPLE_CODE = "DAY-SAMPLE"


def _wall_time(settings: CampaignSettings) -> datetime:
    """The planned local time as written (an offset given with it is ignored: each zone has its own)."""
    return settings.send_at.replace(tzinfo=None, microsecond=0)


def preview_campaign(deps, shop_id: str, document: dict) -> dict:
    """``POST /admin/shops/{shop}/campaigns/preview``: the campaign document as it would be created
    (nothing saved, no code issued), rendered for a sample recipient in every locale with the
    shop's templates: what each language's customers would read."""
    from chalicelib.mail.contexts import sample_account, sample_links
    from chalicelib.mail.rendering import LOCALES, TemplateError, build_context
    from chalicelib.services.templates.templates import template_set_for

    from chalicelib.services.campaigns.plan import forecast

    shop, settings, send_at, data, now = _plan(deps, shop_id, document)
    templates = template_set_for(deps, shop_id)
    sample = {**data, **({"code": SAMPLE_CODE} if settings.offer and settings.offer.codes else {})}
    locales = {}
    for locale in LOCALES:
        try:
            context = build_context(settings.template, shop=shop, account=sample_account(locale, shop, settings.template),
                                    data=sample, links=sample_links(locale), now=now)
            email = templates.render(settings.template, locale, context)
        except TemplateError as error:
            raise BadRequest(f"data: {error.in_plain_words()}", field="data") from None
        locales[locale] = {"subject": email.subject, "preheader": email.preheader, "html": email.html,
                           "text": email.text}
    return {"template": settings.template, "default_locale": shop.default_locale, "data": data,
            "locales": locales,
            "plan": forecast(deps, shop, settings, send_at, _wall_time(settings) if settings.local_time else None, now)}


# Texts a campaign may give per locale ({"de": "...", "en": "..."}), with their longest length.
LOCALIZED_DATA = {"title": 200, "description": 2000, "subject": 200, "preheader": 250}


def _check_localized(data: dict, default_locale: str) -> None:
    from chalicelib.mail.base import LOCALES

    for key, longest in LOCALIZED_DATA.items():
        value = data.get(key)
        texts = value if isinstance(value, dict) else {None: value} if value is not None else {}
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in LOCALES)
            if unknown:
                raise BadRequest(f"data.{key}.{unknown[0]}: not a locale ({', '.join(LOCALES)})",
                                 field=f"data.{key}.{unknown[0]}")
            if default_locale not in value:
                raise BadRequest(f"data.{key}: give the shop's default locale {default_locale!r} too "
                                 f"(the text of every other language falls back to it)", field=f"data.{key}")
        for locale, text in texts.items():
            name = f"data.{key}" + (f".{locale}" if locale else "")
            if not isinstance(text, str) or not text.strip():
                raise BadRequest(f"{name}: a non-empty text", field=name)
            if len(text) > longest:
                raise BadRequest(f"{name}: at most {longest} characters", field=name)


def prepare_campaign(deps, shop, document: dict) -> tuple["CampaignSettings", dict, datetime]:
    """A campaign document checked and its template data completed from the offer, as create
    would save it: (settings, data, send_at). The planner's preview shares it."""
    _, settings, send_at, data, _ = _plan(deps, shop.shop_id, document)
    return settings, data, send_at


def _plan(deps, shop_id: str, document: dict):
    """The campaign document checked and completed: (shop, settings, send_at, data, now)."""
    from chalicelib.mail.rendering import LOCALES, MARKETING_TEMPLATES, TemplateError, build_context
    from chalicelib.mail.contexts import sample_account, sample_links

    shop = load_shop(deps, shop_id)
    now = deps.clock()
    send_now = document.get("send_at") == send_time.NOW
    try:
        settings = CampaignSettings.model_validate({**document, "send_at": now} if send_now else document)
    except ValidationError as error:
        raise bad_request_from(error) from None
    if settings.template not in MARKETING_TEMPLATES - ACCOUNT_TEMPLATES:
        raise BadRequest(f"template: campaigns send marketing e-mails "
                         f"({', '.join(sorted(MARKETING_TEMPLATES - ACCOUNT_TEMPLATES))}); "
                         f"{', '.join(sorted(ACCOUNT_TEMPLATES))} tells each customer their own account, from the daily jobs",
                         field="template")
    try:
        validate_segment(settings.segment)
    except BadRequest as error:
        raise BadRequest(f"segment.{error.message}", field=f"segment.{error.field}") from None
    send_at = settings.send_at
    if settings.local_time:  # first sent where the day begins (UTC+14), last where it ends
        send_at = local_time.first_release(_wall_time(settings))
    elif send_at.tzinfo is None:  # the marketer plans in the shop's time
        if not local_time.exists(send_at, ZoneInfo(shop.timezone)):
            # zoneinfo would move it an hour on, while the plan kept showing the time as typed.
            raise BadRequest(f"send_at: {send_at.isoformat(timespec='minutes')} does not exist in {shop.timezone}: "
                             f"the clocks skip that hour (summer time begins); plan a time outside it",
                             field="send_at")
        send_at = send_at.replace(tzinfo=ZoneInfo(shop.timezone))
    zone = ZoneInfo(shop.timezone)
    _refuse_past(settings, send_at, send_now, zone, now)
    offer = settings.offer
    if offer is not None and _aware(offer.valid_until, zone) <= send_at:
        # The mail would hand out a code (or a claim) that is over when it arrives.
        raise BadRequest("offer.valid_until: the offer ends before the campaign sends; end it after send_at",
                         field="offer.valid_until")
    data = dict(settings.data)
    _refuse_offer_keys(data, offer)
    _refuse_account_keys(data)
    _refuse_other_dates(data, offer, settings.template, zone)
    _check_localized(data, shop.default_locale)
    data.update(offer_data(offer, settings.template, shop.currency_exponent, zone))
    for locale in LOCALES:  # the data must fill the template in every language: refused now, not at a recipient
        try:
            build_context(settings.template, shop=shop, account=sample_account(locale, shop, settings.template),
                          data={**data, **({"code": SAMPLE_CODE} if offer and offer.codes else {})},
                          links=sample_links(locale), now=now)
        except TemplateError as error:
            raise BadRequest(f"data: {error.in_plain_words()}", field="data") from None
    return shop, settings, send_at, data, now


def _refuse_past(settings: CampaignSettings, send_at: datetime, send_now: bool, zone: ZoneInfo, now: datetime) -> None:
    if send_now:
        if settings.local_time:
            raise BadRequest(f"local_time: \"{send_time.NOW}\" is one moment for everyone; give send_at a "
                             f"date and time to send it at that time on each customer's clock", field="local_time")
        return
    reason = send_time.refusal(send_at, _wall_time(settings) if settings.local_time else None, zone, now)
    if reason:
        raise BadRequest(f"send_at: {reason}. Plan a later time, or give \"send_at\": \"{send_time.NOW}\" to send it "
                         f"at once", field="send_at")


# What a mail says about the offer comes from the offer alone: template data may not state it
# (a special day's ``free_shipping: true`` in data promised what no code gave).
OFFER_DATA_KEYS = {
    "code": "codes", "discount_percent": "discount_percent", "code_value_minor": "codes",
    "code_expires_at": "valid_until", "free_shipping": "free_shipping", "min_order_minor": "min_order",
    "claim_points": "bonus_points", "claim_until": "valid_until",
}


# What a mail says about the recipient's own account comes from that account: a campaign's data is
# the same for every recipient and credits nothing ("100,000 points as a gift", "your 1,000,000,000
# points expire on 1 January" went to everyone in the segment, the ledger unchanged).
ACCOUNT_DATA_KEYS = {
    "bonus_points": ("a campaign credits no points, so its mail may not say it gave some (points to claim from "
                     "the e-mail: offer.bonus_points on a special_day campaign)"),
    "points": "each recipient's expiring points come from their own account",
    "expires_at": "each recipient's expiry date comes from their own account",
    "days_since_last_order": "each recipient's days since their last order come from their own account",
}
# Templates whose required data is the recipient's own standing: only the daily jobs send them.
ACCOUNT_TEMPLATES = frozenset({"tier_at_risk"})


def _refuse_account_keys(data: dict) -> None:
    for key, reason in ACCOUNT_DATA_KEYS.items():
        if key in data:
            raise BadRequest(f"data.{key}: {reason}", field=f"data.{key}")


def _refuse_offer_keys(data: dict, offer: Optional[OfferSettings]) -> None:
    for key, offer_field in OFFER_DATA_KEYS.items():
        if key in data:
            raise BadRequest(f"data.{key}: what the mail says about the offer comes from the offer; "
                             f"set offer.{offer_field} instead", field=f"data.{key}")


def offer_data(offer: Optional[OfferSettings], template: str, exponent: int, zone: ZoneInfo) -> dict:
    """The template data an offer fills: its discount, free shipping, minimum order, code expiry,
    bonus points, and (for a special day) the dates it runs, in every locale alike."""
    from chalicelib.domain.money import to_minor

    if offer is None:
        return {}
    data: dict = {}
    valid_from, valid_until = _aware(offer.valid_from, zone).isoformat(), _aware(offer.valid_until, zone).isoformat()
    if offer.codes:
        data["code_expires_at"] = valid_until
        if offer.discount_percent:
            data["discount_percent"] = str(offer.discount_percent)
        if offer.free_shipping:
            data["free_shipping"] = True
        if offer.min_order:
            data["min_order_minor"] = to_minor(offer.min_order, exponent)
    if offer.bonus_points:
        data.update(claim_points=offer.bonus_points, claim_until=valid_until)
    if template == "special_day":
        # The special days are the offer's window: asked once, never contradicting it.
        data.update(starts_at=valid_from, ends_at=valid_until)
    return data


def _refuse_other_dates(data: dict, offer: Optional[OfferSettings], template: str, zone: ZoneInfo) -> None:
    if offer is None or template != "special_day":
        return
    for key, offer_field, expected in (("starts_at", "valid_from", offer.valid_from),
                                       ("ends_at", "valid_until", offer.valid_until)):
        if data.get(key) in (None, ""):
            continue
        # The mail names days ("13–15 June"): the same days as the offer's window agree with it
        # (a planner may send the dates alone); the offer's exact times replace them.
        try:
            text = str(data[key])
            given_day = (_aware(datetime.fromisoformat(text), zone).astimezone(zone).date() if "T" in text or " " in text
                         else datetime.fromisoformat(text).date())
        except ValueError:
            raise BadRequest(f"data.{key}: an ISO 8601 date and time", field=f"data.{key}") from None
        if given_day != _aware(expected, zone).astimezone(zone).date():
            raise BadRequest(f"data.{key}: the special days are the offer's window; leave it out or make it "
                             f"offer.{offer_field}", field=f"data.{key}")


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _issue_codes(deps, campaign: Campaign, customer_ids: list, now: datetime) -> list[str]:
    from chalicelib.domain.loyalty.codes import SPECIAL_DAY
    from chalicelib.domain.loyalty.lapse import day_end
    from chalicelib.domain.campaigns.links import campaign_subject
    from chalicelib.domain.money import to_minor
    from chalicelib.services.loyalty.codes import CodeSpec, issue_codes

    shop = load_shop(deps, campaign.shop_id)
    zone = ZoneInfo(shop.timezone)
    offer = campaign.offer
    spec = CodeSpec(
        kind=SPECIAL_DAY, starts_at=_aware(datetime.fromisoformat(offer["valid_from"]), zone),
        # The mail names valid_until's day ("valid until 20 December", also for a bare date, which
        # reads as that day's midnight): the code works to that day's end.
        expires_at=day_end(_aware(datetime.fromisoformat(offer["valid_until"]), zone), zone),
        discount_percent=Decimal(offer["discount_percent"]) if offer.get("discount_percent") else None,
        free_shipping=bool(offer.get("free_shipping")),
        min_order_minor=to_minor(offer["min_order"], shop.currency_exponent) if offer.get("min_order") else 0,
        max_uses=offer.get("max_uses"), subject=campaign_subject(campaign.campaign_id),
        campaign_id=campaign.campaign_id)
    return [code.code for code in issue_codes(deps, campaign.shop_id, spec, customer_ids, now)]


def get_campaign(deps, shop_id: str, campaign_id: str) -> dict:
    return view(_existing(deps, shop_id, campaign_id), results=True)


def campaign_gate(deps, shop_id: str, campaign_id: str) -> str:
    """For the sender: "send", "wait" (paused) or "drop" (cancelled, stopped, unknown). Cached briefly,
    so a pause reaches every worker within seconds without a read per e-mail."""
    cache_key = f"{shop_id}/{campaign_id}"
    cached = deps.caches.campaign_gates.get(cache_key)
    if cached is not None:
        return cached
    campaign = deps.repos.campaigns(shop_id).get(campaign_id)
    gate = "drop" if campaign is None else "send" if campaign.accepts_sends else (
        "wait" if campaign.status == PAUSED else "drop")
    return deps.caches.campaign_gates.put(cache_key, gate)


def list_campaigns(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)
    return {"campaigns": [view(c) for c in deps.repos.campaigns(shop_id).list()]}


def change_campaign(deps, shop_id: str, campaign_id: str, action: str) -> dict:
    if action not in ("pause", "resume", "cancel"):
        raise NotFound(f"action: no {action!r} (pause, resume or cancel)", field="action")
    campaign = _existing(deps, shop_id, campaign_id)
    try:
        campaign.apply(action, deps.clock())
        deps.repos.campaigns(shop_id).save(campaign)
    except InvalidTransition as refusal:
        raise Conflict(f"status: {refusal}", field="status") from None
    except CampaignChanged:
        raise Conflict("status: the campaign changed meanwhile; read it and try again", field="status") from None
    return view(campaign)


def run_due_campaigns(deps, now: Optional[datetime] = None, *, budget_seconds: float = SEND_BUDGET_SECONDS,
                      on_page: Optional[Callable[[Campaign], None]] = None) -> dict:
    """The scheduled sender: every due campaign, from where it stopped."""
    now = now or deps.clock()
    deadline = time.monotonic() + budget_seconds
    report = {}
    for shop_id, campaign_id in list(due_campaigns(now)):
        report[f"{shop_id}/{campaign_id}"] = send_campaign(deps, shop_id, campaign_id, now, deadline, on_page)
    return report


def send_campaign(deps, shop_id: str, campaign_id: str, now: datetime, deadline: float,
                  on_page: Optional[Callable[[Campaign], None]] = None) -> dict:
    store = deps.repos.campaigns(shop_id)
    campaign = store.get(campaign_id)
    if campaign is None or not campaign.is_due(now):
        return {"status": campaign.status if campaign else "missing", "queued": 0}
    try:
        campaign.claim(now)
        campaign.begin_pass(now)
        store.save(campaign)
    except (InvalidTransition, CampaignChanged):
        return {"status": "taken by another sender", "queued": 0}
    if campaign.is_ab_test and campaign.ab_phase == "rest" and campaign.winner is None:
        campaign.winner = choose_winner(campaign)
        store.save(campaign)

    shop = load_shop(deps, shop_id)
    queued_now, page, position = 0, [], (campaign.shard, campaign.cursor)
    for account, shard, cursor in iter_segment(deps, shop, campaign.segment, now, campaign.shard, campaign.cursor,
                                               PAGE_SIZE):
        if (shard, cursor) != position and page:
            if outbox.waiting_to_send(deps) > deps.config.campaign_queue_limit:
                # Queue no further ahead of what SES may send: a later run goes on from here.
                return _hold(store, campaign, now, queued_now)
            if not _queue_page(deps, store, campaign, page, position, now, on_page):
                return {"status": campaign.status, "queued": queued_now}
            queued_now += len(page)
            page = []
            if time.monotonic() > deadline:  # the next run (after the lease) continues from here
                return {"status": "sending", "queued": queued_now}
        position = (shard, cursor)
        variant = campaign.variant_for(account.customer_id)
        if variant is None:  # an A/B test's other phase has (or will have) this recipient
            continue
        if not campaign.due_in_this_pass(zone_of(account.timezone, shop.timezone)):
            continue  # sent in the pass when their clock shows the planned time
        page.append(campaign.message(account.customer_id, now, variant=variant))
    if page:
        if outbox.waiting_to_send(deps) > deps.config.campaign_queue_limit:
            return _hold(store, campaign, now, queued_now)
        if not _queue_page(deps, store, campaign, page, position, now, on_page):
            return {"status": campaign.status, "queued": queued_now}
        queued_now += len(page)
    if campaign.is_ab_test and campaign.ab_phase == "test":
        campaign.test_sent(now)  # the rest go out after the wait, with the winner
    elif not campaign.pass_done():  # (a local-time campaign waits for its next zone)
        campaign.finish(now)
    try:
        store.save(campaign)
    except CampaignChanged:
        pass  # paused or cancelled just as the last page went: nothing is left to send anyway
    return {"status": campaign.status, "queued": queued_now,
            **({"ab_phase": campaign.ab_phase, "winner": campaign.winner} if campaign.is_ab_test else {}),
            **({"next_pass_at": keys.iso(campaign.send_at)} if campaign.local_send_at and campaign.status == "scheduled"
               else {})}


def choose_winner(campaign: Campaign) -> dict:
    """The A/B test's decision, from the test e-mails' counters (clicks or conversions per variant)."""
    counts = campaign_results(campaign.shop_id, campaign.campaign_id).totals()
    winner_by = campaign.ab_test["winner_by"]
    return ab_test.decide(ab_test.variant_results(counts, len(campaign.variants), winner_by), winner_by)


def _hold(store: CampaignStore, campaign: Campaign, now: datetime, queued_now: int) -> dict:
    campaign.lease_until = now  # released: the next scheduled run may take it at once
    try:
        store.save(campaign)
    except CampaignChanged:
        pass  # paused or cancelled meanwhile: that decides what happens next
    return {"status": "sending", "queued": queued_now, "waiting": "the send queue is full enough"}


def _queue_page(deps, store: CampaignStore, campaign: Campaign, page: list[dict], position, now: datetime,
                on_page) -> bool:
    """Queue one page, then move the saved position past it; False when the campaign was
    paused or cancelled meanwhile (the page is queued; its recipients get it once)."""
    if campaign.codes_per_customer:
        # A page queued again after a crash makes new codes too; the sender sends each
        # recipient one message only, so the extra codes are never seen.
        for message, code in zip(page, _issue_codes(deps, campaign, [m["customer_id"] for m in page], now)):
            message["data"]["code"] = code
    outbox.publish_or_raise(deps, page)
    campaign.page_queued(len(page), position[0], position[1], now)
    try:
        store.save(campaign)
    except CampaignChanged:
        fresh = store.get(campaign.campaign_id)
        campaign.status = fresh.status if fresh else "missing"
        return False
    if on_page:
        on_page(campaign)
    if campaign.stop_if_failing(campaign_results(campaign.shop_id, campaign.campaign_id).totals()):
        store.save(campaign)
        return False
    return True


def view(campaign: Campaign, results: bool = False) -> dict:
    extra = {"results": dict(campaign_results(campaign.shop_id, campaign.campaign_id).totals())} if results else {}
    return {**extra, "campaign_id": campaign.campaign_id, "name": campaign.name, "template": campaign.template,
            "segment": campaign.segment, "data": campaign.data, "offer": campaign.offer,
            "holdout_percent": campaign.holdout_percent, "variants": campaign.variants, "ab_test": campaign.ab_test,
            "ab_phase": campaign.ab_phase, "winner": campaign.winner, "send_at": keys.iso(campaign.send_at),
            "local_time": campaign.local_send_at is not None,
            **({"local_send_at": campaign.local_send_at.isoformat(),
                "released_until": keys.iso(campaign.released_until) if campaign.released_until else None}
               if campaign.local_send_at else {}),
            "status": campaign.status, "queued": campaign.queued, "pages": campaign.pages,
            "position": {"shard": campaign.shard, "cursor": campaign.cursor},
            "finished_at": keys.iso(campaign.finished_at) if campaign.finished_at else None}


def _existing(deps, shop_id: str, campaign_id: str) -> Campaign:
    load_shop(deps, shop_id)
    campaign = deps.repos.campaigns(shop_id).get(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}", field="campaign_id")
    return campaign
