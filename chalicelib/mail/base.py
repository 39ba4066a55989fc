"""Names, locales and the error type shared by the mail modules."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

TEMPLATES: tuple[str, ...] = (
    "post_purchase", "points_expiring", "special_day", "tier_upgrade", "reward_code",
    "referral_reward", "welcome", "birthday", "winback", "tier_at_risk", "achievement", "membership_reminder",
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
})
TRANSACTIONAL_TEMPLATES: frozenset[str] = frozenset(TEMPLATES) - MARKETING_TEMPLATES

LOCALES: tuple[str, ...] = ("en", "de", "ru", "uk")
FALLBACK_LOCALE = "en"
# Locale spellings seen in shop data that mean one of ours ("ua" is the country code).
_ALIASES = {"ua": "uk"}


def normalize_locale(value: Optional[str]) -> Optional[str]:
    """"de-DE", "uk_UA", "RU" → "de", "uk", "ru"; anything we do not write → None."""
    if not value or not isinstance(value, str):
        return None
    language = value.strip().replace("_", "-").split("-")[0].lower()
    language = _ALIASES.get(language, language)
    return language if language in LOCALES else None


def resolve_locale(*candidates: Optional[str]) -> str:
    """The first supported locale among the candidates (customer's, shop's), else English."""
    for candidate in candidates:
        found = normalize_locale(candidate)
        if found:
            return found
    return FALLBACK_LOCALE


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
        where += f", line {self.line}" if self.line is not None else ", line unknown"
        return f"{where}: {self.message}"

    def __reduce__(self):
        return (type(self), (self.template, self.locale, self.line, self.message, self.source))


class ContextError(TemplateError):
    """The data given for a template is missing a value or has the wrong type."""


class TemplateLimitError(TemplateError):
    """A template went over a limit: its render budget (time, steps, sizes; see
    ``sandbox.RenderBudget``) or the MJML structure limits (see ``structure``). An editor's
    request with it is refused (400); a send with it fails and is dead-lettered."""
