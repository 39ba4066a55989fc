"""Names, locales and the error type shared by the mail modules."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

TEMPLATES: tuple[str, ...] = (
    "post_purchase", "points_expiring", "special_day", "tier_upgrade", "reward_code",
    "referral_reward", "welcome", "birthday", "winback", "tier_at_risk", "achievement", "membership_reminder",
    "shipment_update", "flow_message", "personal_offer",
)

# Marketing mail needs the customer's consent, carries an unsubscribe link and counts
# against the shop's marketing cap. Everything that promotes a purchase is marketing,
# including the points-expiry reminder and the welcome mail (German UWG §7 and the
# ePrivacy rules treat "come back and buy" as advertising even when a balance is named).
# Transactional mail reports something the customer did or now owns: their order,
# their code, their new tier, their referral reward, an achievement, the end of a paid
# membership they hold (a notice about their own contract). It still links the preferences.
MARKETING_TEMPLATES: frozenset[str] = frozenset({
    "special_day", "winback", "birthday", "points_expiring", "welcome", "tier_at_risk",
    # Flow steps (second purchase, review request, abandoned checkout) all ask for a purchase.
    "flow_message",
    # An individual offer told to its customers (services/campaigns/offer_mail.py).
    "personal_offer",
})
TRANSACTIONAL_TEMPLATES: frozenset[str] = frozenset(TEMPLATES) - MARKETING_TEMPLATES

LOCALES: tuple[str, ...] = ("en", "de", "ru", "uk")
FALLBACK_LOCALE = "en"
# Locale spellings seen in shop data that mean one of ours ("ua" is the country code).
_ALIASES = {"ua": "uk"}


def resolve_locale(*candidates: Optional[str]) -> str:
    """The one locale resolution: the first candidate we write in, else English. A candidate is a
    locale ("de-DE", "uk_UA", "RU": its language counts) or an Accept-Language header, whose
    languages count by their q-values ("en;q=0.3, de" → "de"); a ``lang`` parameter, the
    customer's locale, the browser's header and the shop's default are passed in that order."""
    for candidate in candidates:
        found = normalize_locale(candidate)
        if found:
            return found
    return FALLBACK_LOCALE


def normalize_locale(value: Optional[str]) -> Optional[str]:
    """One candidate (a locale or an Accept-Language header) → the locale we write, or None."""
    if not value or not isinstance(value, str):
        return None
    if len(value) <= _KEPT_CANDIDATE_CHARS:  # a customer's or shop's locale: a few per e-mail, each 4 µs
        return _normalized(value)
    return _negotiated(value)


# What a locale resolves to, kept: a pure function of a short string (headers longer than this
# are resolved each time, so the cache holds at most 1,024 short strings).
_KEPT_CANDIDATE_CHARS = 64


@lru_cache(maxsize=1024)
def _normalized(value: str) -> Optional[str]:
    return _negotiated(value)


def _negotiated(value: str) -> Optional[str]:
    from babel.core import negotiate_locale  # here, not at import: `import app` stays light

    preferred = [_language_first(tag) for tag in accepted_languages(value)]
    found = negotiate_locale(preferred, LOCALES, sep="-", aliases=None)
    return found.split("-")[0].lower() if found else None


def accepted_languages(header: str) -> list[str]:
    """An Accept-Language value's language tags, most wanted first (RFC 9110 q-values; a plain
    locale is a header of one). q=0, "*" and malformed parts are left out, never an error."""
    weighted = []
    for position, part in enumerate(header[:1000].split(",")[:50]):
        tag, _, parameters = part.strip().partition(";")
        tag = tag.strip().replace("_", "-")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if tag and tag != "*" and 0 < quality <= 1 and len(tag) <= 35:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _language_first(tag: str) -> str:
    # Only the language subtag decides ("ua", the country code, is how shops spell Ukrainian).
    language, _, rest = tag.partition("-")
    language = _ALIASES.get(language.lower(), language.lower())
    return f"{language}-{rest}" if rest else language


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str


class TemplateError(Exception):
    """A template could not be compiled or rendered; names where.

    ``source`` is the file (or override) the line refers to, e.g. ``post_purchase.mjml``,
    ``partials/footer.mjml``, ``text/post_purchase.txt`` or ``override post_purchase@v3``.
    """

    def __init__(self, template: str, locale: Optional[str], line: Optional[int], message: str,
                 source: Optional[str] = None):
        self.template = template
        self.locale = locale
        self.line = line
        self.message = message
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"template {self.template!r}, locale {self.locale or '-'}"
        if self.source:
            where += f", {self.source}"
        where += f", line {self.line}" if self.line is not None else ""
        return f"{where}: {self.message}"

    def in_plain_words(self) -> str:
        """The refusal as a marketer reads it: what is wrong first, then which e-mail and language."""
        at = f" on line {self.line}" if self.line is not None else ""
        language = f" in {self.locale}" if self.locale else ""
        return f"{self.message}{at} (the {self.template.replace('_', ' ')} e-mail{language})"

    def __reduce__(self):
        return (type(self), (self.template, self.locale, self.line, self.message, self.source))


class ContextError(TemplateError):
    """The data given for a template is missing a value or has the wrong type."""


class TemplateLimitError(TemplateError):
    """A template went over a limit: its render budget (time, steps, sizes; see
    ``sandbox.RenderBudget``) or the MJML structure limits (see ``structure``). An editor's
    request with it is refused (400); a send with it fails and is dead-lettered."""
