"""E-mail content: MJML templates, per-locale catalogs, Babel formatting, rendering."""
from chalicelib.mail.base import (
    LOCALES, MARKETING_TEMPLATES, TEMPLATES, TRANSACTIONAL_TEMPLATES, ContextError, RenderedEmail, TemplateError,
)
from chalicelib.mail.rendering import TemplateSet, build_context, render_all, sample_context

__all__ = [
    "TEMPLATES", "MARKETING_TEMPLATES", "TRANSACTIONAL_TEMPLATES", "LOCALES", "RenderedEmail", "TemplateError",
    "ContextError", "TemplateSet", "build_context", "sample_context", "render_all",
]
