"""E-mail content: MJML templates, per-locale catalogs, Babel formatting, rendering.

The rendering names are resolved on first use (PEP 562): importing a light
submodule such as ``chalicelib.mail.tokens`` must not pull in Jinja2, MJML and
Babel, so ``import app`` stays cheap for the functions that never render mail.
"""
from chalicelib.mail.base import (
    LOCALES, MARKETING_TEMPLATES, TEMPLATES, TRANSACTIONAL_TEMPLATES, ContextError, RenderedEmail, TemplateError,
)

_RENDERING_NAMES = ("TemplateSet", "build_context", "sample_context", "render_all")

__all__ = [
    "TEMPLATES", "MARKETING_TEMPLATES", "TRANSACTIONAL_TEMPLATES", "LOCALES", "RenderedEmail", "TemplateError",
    "ContextError", *_RENDERING_NAMES,
]


def __getattr__(name: str):
    if name in _RENDERING_NAMES:
        from chalicelib.mail import rendering

        return getattr(rendering, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
