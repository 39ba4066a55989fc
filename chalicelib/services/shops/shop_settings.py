"""The shop settings document: validated on save, mapped to the domain ``Shop``."""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ValidationInfo, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.loyalty.program import (AchievementRule, MembershipPlan, MembershipRules, ProgramRules, ReferralRules,
                                              ReviewRules, Tier)
from chalicelib.domain.campaigns.lift import MAX_HOLDOUT_PERCENT
from chalicelib.domain.mail.deferral import DEFAULT_PRIORITY_ORDER
from chalicelib.domain.mail.quiet_hours import QuietHours
from chalicelib.domain.shops.brand import (FONT_NAMES, HEX_COLOR, MAX_ADDRESS_LINE_CHARS, MAX_ADDRESS_LINES,
                                          SOCIAL_NETWORKS, Brand, SocialLink, network_of_url)
from chalicelib.domain.shops.shop import SWITCHABLE_FLOWS, MarketingCap, Shop
from chalicelib.domain.shops.webhook_secrets import DEFAULT_GRACE_DAYS, PreviousSecret

SUPPORTED_LOCALES = ("en", "de", "ru", "uk")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")

NonNegativeDecimal = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TierSettings(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    min_spend: NonNegativeDecimal
    discount_percent: Percent = Decimal(0)


class ReferralSettings(_Strict):
    enabled: bool = True
    friend_discount_percent: Percent = Decimal("10")
    reward_points: Annotated[int, Field(ge=0, le=1_000_000)] = 200
    reward_money: NonNegativeDecimal = Decimal("0")
    return_window_days: Annotated[int, Field(ge=0, le=365)] = 14
    monthly_cap: Annotated[int, Field(ge=1, le=10_000)] = 10

    @model_validator(mode="after")
    def _one_reward(self) -> "ReferralSettings":
        if self.reward_points and self.reward_money:
            raise ValueError("give reward_points or reward_money, not both")
        return self

    def to_rules(self) -> ReferralRules:
        return ReferralRules(self.enabled, self.friend_discount_percent, self.reward_points, self.reward_money,
                             self.return_window_days, self.monthly_cap)


class ReviewSettings(_Strict):
    bonus_points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    min_chars: Annotated[int, Field(ge=0, le=100_000)] = 200


class MembershipPlanSettings(_Strict):
    """One membership package: the product (``sku``) customers buy, its period and its terms."""

    sku: Annotated[str, Field(min_length=1, max_length=255)]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    period: Literal["monthly", "yearly"] = "monthly"
    free_shipping: bool = True
    extra_cashback_percent: Percent = Decimal(0)
    exclusive_offers: bool = False


class MembershipSettings(_Strict):
    sku: Optional[Annotated[str, Field(min_length=1, max_length=255)]] = None
    period: Literal["monthly", "yearly"] = "monthly"
    extra_cashback_percent: Percent = Decimal(0)
    reminder_days: Annotated[int, Field(ge=1, le=60)] = 7
    plans: list[MembershipPlanSettings] = Field(default_factory=list, max_length=10)

    @field_validator("plans")
    @classmethod
    def _distinct_plans(cls, plans: list[MembershipPlanSettings]) -> list[MembershipPlanSettings]:
        skus = [plan.sku for plan in plans]
        if len(set(skus)) != len(skus):
            raise ValueError("each plan needs its own sku")
        return plans

    @model_validator(mode="after")
    def _single_sku_not_a_plan(self) -> "MembershipSettings":
        if self.sku and any(plan.sku == self.sku for plan in self.plans):
            raise ValueError("plans: the single membership sku cannot also be a plan's sku; describe it as a plan "
                             "and leave sku out")
        return self

    def to_rules(self) -> MembershipRules:
        return MembershipRules(self.sku, self.period, self.extra_cashback_percent, self.reminder_days,
                               tuple(MembershipPlan(p.sku, p.name.strip(), p.period, p.free_shipping,
                                                    p.extra_cashback_percent, p.exclusive_offers)
                                     for p in self.plans))


class AchievementSettings(_Strict):
    kind: Literal["orders", "reviews", "tier"]
    points: Annotated[int, Field(ge=0, le=1_000_000)]
    threshold: Annotated[int, Field(ge=1, le=10_000)] = 1
    tier: Optional[Annotated[str, Field(min_length=1, max_length=60)]] = None

    @model_validator(mode="after")
    def _tier_named(self) -> "AchievementSettings":
        if (self.kind == "tier") != (self.tier is not None):
            raise ValueError("tier: name the tier for kind 'tier' (and only for it)")
        return self


class ProgramSettings(_Strict):
    earn_rate: NonNegativeDecimal = Decimal("0.05")
    point_value: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = Decimal("1")
    min_redeem_points: Annotated[int, Field(ge=1)] = 100
    points_validity_months: Annotated[int, Field(ge=1, le=120)] = 6
    tiers: list[TierSettings] = Field(default_factory=lambda: [
        TierSettings(name="Silver", min_spend=Decimal("2000"), discount_percent=Decimal(5)),
        TierSettings(name="Gold", min_spend=Decimal("5000"), discount_percent=Decimal(7)),
    ])
    tier_period: Literal["lifetime", "rolling_12_months"] = "lifetime"
    cashback_percent: Percent = Decimal(0)
    excluded_skus: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    excluded_categories: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    exclude_gift_cards: bool = True
    redemption_code_validity_days: Annotated[int, Field(ge=1, le=365)] = 30
    birthday_bonus_points: Annotated[int, Field(ge=0, le=1_000_000)] = 50
    winback_after_days: Annotated[int, Field(ge=7, le=3650)] = 90
    referral: ReferralSettings = Field(default_factory=ReferralSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    signup_bonus_points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    membership: MembershipSettings = Field(default_factory=MembershipSettings)
    achievements: list[AchievementSettings] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _achievements_known(self) -> "ProgramSettings":
        ids = [(a.kind, a.tier if a.kind == "tier" else a.threshold) for a in self.achievements]
        if len(set(ids)) != len(ids):
            raise ValueError("achievements: each kind and threshold (or tier) may appear once")
        names = {t.name.lower() for t in self.tiers}
        for a in self.achievements:
            if a.kind == "tier" and a.tier.lower() not in names:
                raise ValueError(f"achievements: tier {a.tier!r} is not one of the program's tiers")
        return self

    @field_validator("tiers")
    @classmethod
    def _distinct_tiers(cls, tiers: list[TierSettings]) -> list[TierSettings]:
        names = [t.name.lower() for t in tiers]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        spends = [t.min_spend for t in tiers]
        if len(set(spends)) != len(spends):
            raise ValueError("two tiers cannot start at the same min_spend")
        ordered = sorted(tiers, key=lambda t: t.min_spend)
        discounts = [t.discount_percent for t in ordered]
        if discounts != sorted(discounts):
            raise ValueError("a higher tier cannot give a smaller discount_percent")
        return ordered

    def to_rules(self) -> ProgramRules:
        return ProgramRules(
            earn_rate=self.earn_rate, point_value=self.point_value, min_redeem_points=self.min_redeem_points,
            points_validity_months=self.points_validity_months,
            tiers=tuple(Tier(t.name, t.min_spend, t.discount_percent) for t in self.tiers),
            tier_period=self.tier_period, cashback_percent=self.cashback_percent,
            excluded_skus=frozenset(self.excluded_skus), excluded_categories=frozenset(self.excluded_categories),
            exclude_gift_cards=self.exclude_gift_cards,
            redemption_code_validity_days=self.redemption_code_validity_days,
            birthday_bonus_points=self.birthday_bonus_points, winback_after_days=self.winback_after_days,
            referral=self.referral.to_rules(),
            review=ReviewRules(self.review.bonus_points, self.review.min_chars),
            signup_bonus_points=self.signup_bonus_points,
            membership=self.membership.to_rules(),
            achievements=tuple(AchievementRule(a.kind, a.points, a.threshold, a.tier) for a in self.achievements))


DEFERRAL_KINDS = DEFAULT_PRIORITY_ORDER


class MarketingCapSettings(_Strict):
    max_messages: Annotated[int, Field(ge=0, le=100)] = 3
    per_days: Annotated[int, Field(ge=1, le=365)] = 7


class QuietHoursSettings(_Strict):
    """No marketing e-mail between ``start`` and ``end`` on the customer's clock (HH:MM, 24 h; the
    window may span midnight). Transactional e-mail is never held."""

    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "21:00"
    end: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "08:00"

    @model_validator(mode="after")
    def _a_window(self) -> "QuietHoursSettings":
        if self.start == self.end:
            raise ValueError("start and end must differ (set quiet_hours to null to send at any hour)")
        return self

    def to_rule(self) -> QuietHours:
        return QuietHours(time.fromisoformat(self.start), time.fromisoformat(self.end))


class UtmSettings(_Strict):
    """UTM parameters on links to the shop's hosts: utm_source, utm_medium, and utm_campaign = the
    campaign's or the flow's name."""

    enabled: bool = True
    source: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")] = "loyalty"
    medium: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")] = "email"


class PlatformApiSettings(_Strict):
    """Read access to the shop platform's API, for reconciliation. The credentials are
    secrets: stored with the webhook secret, never returned."""

    base_url: str = Field(description="Shopify: https://{shop}.myshopify.com; WooCommerce: the site's URL")
    access_token: Optional[Annotated[str, Field(min_length=8, max_length=512)]] = None  # Shopify Admin API
    consumer_key: Optional[Annotated[str, Field(min_length=8, max_length=512)]] = None  # WooCommerce REST
    consumer_secret: Optional[Annotated[str, Field(min_length=8, max_length=512)]] = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https://[^/\s]+", value) and not re.match(r"^http://(localhost|127\.0\.0\.1)(:\d+)?", value):
            raise ValueError("must be an https:// URL (http:// only for localhost)")
        return value.rstrip("/")


PLATFORM_API_SECRETS = ("access_token", "consumer_key", "consumer_secret")


def _color(value: str) -> str:
    if not HEX_COLOR.match(value):
        raise ValueError("must be a colour as #rrggbb (six hex digits, like #1f6f54)")
    return value.lower()


Color = Annotated[str, Field(json_schema_extra={"pattern": HEX_COLOR.pattern}), AfterValidator(_color)]
AddressLine = Annotated[str, Field(min_length=1, max_length=MAX_ADDRESS_LINE_CHARS)]


SocialUrl = Optional[Annotated[str, Field(max_length=500)]]


class SocialLinksSettings(_Strict):
    """The shop's profile on each network (https, on that network's own hosts), in the footer."""

    instagram: SocialUrl = None
    facebook: SocialUrl = None
    tiktok: SocialUrl = None
    youtube: SocialUrl = None
    x: SocialUrl = None
    pinterest: SocialUrl = None
    linkedin: SocialUrl = None
    telegram: SocialUrl = None

    @field_validator(*SOCIAL_NETWORKS)
    @classmethod
    def _on_the_network(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if not value:
            return None
        if network_of_url(value) != info.field_name:
            raise ValueError(f"must be an https:// link on {' or '.join(SOCIAL_NETWORKS[info.field_name])}")
        return value

    def to_links(self) -> tuple[SocialLink, ...]:
        return tuple(SocialLink(network, getattr(self, network)) for network in SOCIAL_NETWORKS
                     if getattr(self, network))


class BrandSettings(_Strict):
    """How every e-mail looks: the logo in the header, the colours, the font, the footer's
    address lines and social links. The defaults are the default templates' own look."""

    logo_url: Optional[Annotated[str, Field(max_length=2000)]] = None
    primary_color: Color = "#1f6f54"
    accent_color: Color = "#14213d"
    background_color: Color = "#f4f1ec"
    text_color: Color = "#1f2933"
    font: Literal[FONT_NAMES] = "system"
    address_lines: list[AddressLine] = Field(default_factory=list, max_length=MAX_ADDRESS_LINES)
    social_links: SocialLinksSettings = Field(default_factory=lambda: SocialLinksSettings())

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: Optional[str]) -> Optional[str]:
        if not value:
            return None
        if not re.match(r"^https://[^/\s\"'<>]+/[^\s\"'<>]*$", value):
            raise ValueError("must be an https:// URL of an image (mail clients block anything else)")
        return value

    @field_validator("address_lines")
    @classmethod
    def _lines(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if any(ord(ch) < 32 for ch in line):
                raise ValueError("one line per entry: no line breaks or control characters")
        return lines

    def to_brand(self) -> Brand:
        return Brand(logo_url=self.logo_url, primary_color=self.primary_color, accent_color=self.accent_color,
                     background_color=self.background_color, text_color=self.text_color, font=self.font,
                     address_lines=tuple(self.address_lines),
                     social_links=self.social_links.to_links())


class ShopSettings(_Strict):
    """What a shop's owner writes with PUT /admin/shops/{shop_id}."""

    name: Annotated[str, Field(max_length=200)] = ""
    logo_url: Optional[str] = None
    address: Optional[Annotated[str, Field(max_length=300)]] = None
    platform: Literal["shopify", "woocommerce", "generic"]
    webhook_secret: Optional[Annotated[str, Field(min_length=16, max_length=512)]] = None
    # A secret the shop says is still in use besides the current one (accepted until it retires).
    previous_webhook_secret: Optional[Annotated[str, Field(min_length=16, max_length=512)]] = None
    # How long a replaced webhook secret keeps verifying deliveries (0: not at all).
    previous_secret_grace_days: Annotated[int, Field(ge=0, le=90)] = DEFAULT_GRACE_DAYS
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    default_locale: Literal["en", "de", "ru", "uk"] = "en"
    timezone: str = "UTC"
    sender_email: str
    # Where customers' replies go (the shop's support inbox), when not to the sender address.
    reply_to: Optional[str] = None
    storefront_url: str
    program: ProgramSettings = Field(default_factory=ProgramSettings)
    marketing_cap: MarketingCapSettings = Field(default_factory=MarketingCapSettings)
    expiry_warning_days: list[Annotated[int, Field(ge=1, le=365)]] = Field(default_factory=lambda: [30, 7],
                                                                          max_length=5)
    link_domains: list[str] = Field(default_factory=list, max_length=20)
    link_validity_days: Annotated[int, Field(ge=7, le=730)] = 180
    # Win-back for customers already lapsed when the shop starts (default: only those who lapse from now on).
    winback_already_lapsed: bool = False
    # The automated e-mails switched off (each one of SWITCHABLE_FLOWS, at most once).
    flows_off: list[Literal[SWITCHABLE_FLOWS]] = Field(default_factory=list, max_length=len(SWITCHABLE_FLOWS))
    attribution_days: Annotated[int, Field(ge=1, le=90)] = 5
    # Which marketing e-mail gets a free slot under the cap first (domain/mail/deferral.py), highest first.
    mail_priority_order: list[Literal[DEFERRAL_KINDS]] = Field(default_factory=lambda: list(DEFAULT_PRIORITY_ORDER))
    # Campaign tags added to links to the shop's own hosts, so the shop's analytics agrees with ours.
    utm: UtmSettings = Field(default_factory=lambda: UtmSettings())
    # Quiet hours on each customer's own clock (null: marketing e-mail at any hour).
    quiet_hours: Optional[QuietHoursSettings] = Field(default_factory=lambda: QuietHoursSettings())
    # The program's holdout: this share of customers (chosen per shop by a hash) never gets marketing
    # e-mail, so the dashboard can measure what the whole program adds.
    program_holdout_percent: Annotated[int, Field(ge=0, le=MAX_HOLDOUT_PERCENT)] = 0
    # Logo, colours, font, footer address and social links of every e-mail (defaults: today's look).
    brand: BrandSettings = Field(default_factory=lambda: BrandSettings())

    @field_validator("flows_off")
    @classmethod
    def _each_flow_once(cls, flows: list[str]) -> list[str]:
        return sorted(set(flows), key=SWITCHABLE_FLOWS.index)

    @field_validator("mail_priority_order")
    @classmethod
    def _every_kind_once(cls, order: list[str]) -> list[str]:
        if sorted(order) != sorted(DEFAULT_PRIORITY_ORDER):
            raise ValueError(f"name each of {', '.join(DEFAULT_PRIORITY_ORDER)} once, highest priority first")
        return order

    @field_validator("link_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for domain in domains:
            domain = domain.strip().lower().rstrip(".")
            if not _DOMAIN.match(domain):
                raise ValueError(f"{domain!r} is not a domain name (like shop.example, without https://)")
            cleaned.append(domain)
        return sorted(set(cleaned))
    platform_api: Optional[PlatformApiSettings] = None

    @field_validator("expiry_warning_days")
    @classmethod
    def _distinct_warning_days(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise ValueError("each warning day may appear once")
        return sorted(days, reverse=True)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        from babel.numbers import list_currencies

        value = value.upper()
        if value not in list_currencies():
            raise ValueError(f"unknown ISO 4217 currency code {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: Optional[str]) -> Optional[str]:
        from chalicelib.domain.email_address import normalize_email

        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _EMAIL.match(value) or not value.split("@")[0].isascii():
            raise ValueError("not an e-mail address (an ASCII local part, like support@shop.example)")
        return normalize_email(value)

    @field_validator("sender_email")
    @classmethod
    def _email(cls, value: str) -> str:
        from chalicelib.domain.shops.sender_domains import DomainRejected, normalise_sender_email

        if not _EMAIL.match(value):
            raise ValueError("not an e-mail address")
        try:  # the domain in punycode, as SES and DNS know it
            return normalise_sender_email(value)
        except DomainRejected as error:
            raise ValueError(str(error)) from None

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https://[^/\s]+/\S*$", value):
            raise ValueError("must be an https:// URL of an image (mail clients block anything else)")
        return value

    @field_validator("storefront_url")
    @classmethod
    def _storefront(cls, value: str) -> str:
        if not re.match(r"^https://[^/\s]+", value) and not re.match(r"^http://(localhost|127\.0\.0\.1)(:\d+)?", value):
            raise ValueError("must be an https:// URL (http:// only for localhost)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secrets_differ(self) -> "ShopSettings":
        if self.webhook_secret and self.webhook_secret == self.previous_webhook_secret:
            raise ValueError("previous_webhook_secret must differ from webhook_secret")
        return self


# Upper bounds of the program on save, where every amount it derives still fits: the points of
# the largest order a platform may send (10**12) at the highest earn rate, and their value in minor
# units at the highest point value, stay inside Decimal's 28 digits and DynamoDB's 38. Without them
# an earn rate of 1e40 or a point value of 1e30 saved, then a paid order credited more digits than
# DynamoDB stores, and the storefront view and the shop's e-mails failed. Checked when settings
# are saved, not when a stored shop is read, so a shop saved before keeps working.
MAX_EARN_RATE = Decimal(1000)  # points per major unit
MAX_POINT_VALUE = Decimal(10) ** 6  # major units per point
MAX_MIN_REDEEM_POINTS = 10 ** 9
MAX_MONEY = Decimal(10) ** 12  # a tier's min_spend: no order is larger
MAX_REWARD_MONEY = Decimal(10) ** 9  # as a reward's or an offer's amount
# Excluded SKUs and categories are stored in the shop's item, which DynamoDB caps at 400 KB.
MAX_EXCLUDED = 500
MAX_PRODUCT_KEY_CHARS = 255


def program_problem(settings: ShopSettings) -> Optional[tuple[str, str]]:
    """(field, reason) when the program is past what the service can earn, show and redeem, or
    when its smallest redemption would be worth nothing in the shop's currency."""
    program = settings.program
    for name, value, limit in (("earn_rate", program.earn_rate, MAX_EARN_RATE),
                               ("point_value", program.point_value, MAX_POINT_VALUE),
                               ("min_redeem_points", program.min_redeem_points, MAX_MIN_REDEEM_POINTS),
                               ("referral.reward_money", program.referral.reward_money, MAX_REWARD_MONEY)):
        if value > limit:
            return f"program.{name}", f"at most {limit}"
    for number, tier in enumerate(program.tiers):
        if tier.min_spend > MAX_MONEY:
            return f"program.tiers.{number}.min_spend", f"at most {MAX_MONEY}"
    for name in ("excluded_skus", "excluded_categories"):
        values = getattr(program, name)
        if len(values) > MAX_EXCLUDED:
            return f"program.{name}", f"at most {MAX_EXCLUDED} entries"
        for number, value in enumerate(values):
            if len(value) > MAX_PRODUCT_KEY_CHARS:
                return f"program.{name}.{number}", f"at most {MAX_PRODUCT_KEY_CHARS} characters"
    smallest_unit = Decimal(1).scaleb(-currency_exponent(settings.currency))
    if program.point_value * program.min_redeem_points < smallest_unit:
        # A customer would give up min_redeem_points for a code worth 0.
        return "program.point_value", (f"min_redeem_points ({program.min_redeem_points}) × point_value must be worth "
                                       f"at least {smallest_unit} {settings.currency}")
    return None


def platform_api_problem(settings: ShopSettings) -> Optional[tuple[str, str]]:
    """(field, reason) when the platform API settings cannot work for this shop's platform."""
    api = settings.platform_api
    if api is None:
        return None
    if settings.platform == "generic":
        return "platform_api", "generic shops have no platform API to reconcile with"
    if settings.platform == "shopify" and not api.access_token:
        return "platform_api.access_token", "required for Shopify (an Admin API access token with read_orders)"
    if settings.platform == "woocommerce":
        for name in ("consumer_key", "consumer_secret"):
            if not getattr(api, name):
                return f"platform_api.{name}", "required for WooCommerce (a REST API key with read access)"
    return None


def currency_exponent(currency: str) -> int:
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency)


def shop_from_documents(shop_id: str, config: dict, secrets: dict, version: int) -> Shop:
    fields = ShopSettings.model_fields
    merged = {k: v for k, v in {**config, **secrets}.items() if k in fields}
    if config.get("platform_api"):
        merged["platform_api"] = {**config["platform_api"], **(secrets.get("platform_api") or {})}
    settings = ShopSettings.model_validate(merged)
    return Shop(
        shop_id=shop_id, platform=settings.platform, currency=settings.currency,
        currency_exponent=int(config.get("currency_exponent", currency_exponent(settings.currency))),
        default_locale=settings.default_locale, timezone=settings.timezone, sender_email=settings.sender_email,
        reply_to=settings.reply_to, storefront_url=settings.storefront_url, program=settings.program.to_rules(), name=settings.name,
        logo_url=settings.logo_url, address=settings.address,
        webhook_secret=settings.webhook_secret or "", previous_webhook_secrets=previous_secrets(secrets),
        customer_key_salt=secrets.get("customer_key_salt", ""),
        marketing_cap=MarketingCap(settings.marketing_cap.max_messages, settings.marketing_cap.per_days),
        expiry_warning_days=tuple(settings.expiry_warning_days),
        link_domains=tuple(settings.link_domains), link_validity_days=settings.link_validity_days,
        attribution_days=settings.attribution_days, winback_already_lapsed=settings.winback_already_lapsed,
        flows_off=frozenset(settings.flows_off),
        mail_priority_order=tuple(settings.mail_priority_order),
        quiet_hours=settings.quiet_hours.to_rule() if settings.quiet_hours else None,
        program_holdout_percent=settings.program_holdout_percent, brand=settings.brand.to_brand(),
        utm_source=settings.utm.source if settings.utm.enabled else None, utm_medium=settings.utm.medium,
        platform_api_url=settings.platform_api.base_url if settings.platform_api else None,
        platform_api_credentials={name: getattr(settings.platform_api, name) for name in PLATFORM_API_SECRETS
                                  if settings.platform_api and getattr(settings.platform_api, name)},
        created_at=config.get("created_at", ""), updated_at=config.get("updated_at", ""), version=version)


def previous_secrets(secrets: dict) -> tuple[PreviousSecret, ...]:
    """The replaced webhook secrets stored with the shop, with their retire times."""
    from chalicelib.store.keys import parse_iso

    stored = [PreviousSecret(entry["secret"], parse_iso(entry["retire_at"]) if entry.get("retire_at") else None)
              for entry in secrets.get("previous_webhook_secrets") or ()]
    if secrets.get("previous_webhook_secret"):  # stored before secrets had retire times
        stored.append(PreviousSecret(secrets["previous_webhook_secret"], None))
    return tuple(stored)


def secrets_document(previous: tuple[PreviousSecret, ...]) -> list[dict]:
    from chalicelib.store.keys import iso

    return [{"secret": p.secret, "retire_at": iso(p.retire_at) if p.retire_at else None} for p in previous]


def public_view(settings: ShopSettings) -> dict:
    """The settings as JSON, secrets left out."""
    view = settings.model_dump(mode="json", exclude={"webhook_secret", "previous_webhook_secret", "platform_api"})
    if settings.platform_api is not None:
        view["platform_api"] = {"base_url": settings.platform_api.base_url}
    return view


def platform_api_secrets(settings: ShopSettings) -> dict:
    api = settings.platform_api
    return {name: getattr(api, name) for name in PLATFORM_API_SECRETS if api and getattr(api, name)}
