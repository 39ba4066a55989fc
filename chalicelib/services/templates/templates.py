"""A shop's own e-mail templates: validated before they are saved, used by the sender.

An override replaces the MJML body of one e-mail; it is compiled in every
locale and rendered with sample data before it is saved, so a broken template
is refused with its line instead of failing a customer's e-mail later.
"""
from __future__ import annotations

import time
from typing import Optional

from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.templates.templates import PARTS, OverrideChanged

MAX_MJML_BYTES = 200_000


def get_templates(deps, shop_id: str) -> dict:
    from chalicelib.mail.rendering import TEMPLATES

    load_shop(deps, shop_id)
    overrides = {o.template: o for o in deps.repos.templates(shop_id).all()}
    return {"templates": [{"template": name, "overridden": name in overrides and overrides[name].mjml is not None,
                           "own_texts": sorted(overrides[name].texts) if name in overrides else [],
                           "version": overrides[name].version if name in overrides else 0,
                           "updated_at": overrides[name].updated_at if name in overrides else None}
                          for name in TEMPLATES]}


def get_template(deps, shop_id: str, template: str) -> dict:
    from chalicelib.mail.rendering import TemplateSet

    load_shop(deps, shop_id)
    _known(template)
    stored = deps.repos.templates(shop_id).get(template)
    own_texts = sorted(stored.texts) if stored else []
    if stored and stored.mjml is not None:
        parts = stored.parts
        return {"template": template, "overridden": True, "version": stored.version, "mjml": stored.mjml,
                **{name: parts.get(name) for name in PARTS},
                "text_source": "own" if parts.get("text") else "generated from the HTML",
                "warnings": divergence(stored.mjml, parts), "own_texts": own_texts}
    _, source = TemplateSet.default().source(template)
    return {"template": template, "overridden": False, "version": stored.version if stored else 0,
            "mjml": source.text, **{name: None for name in PARTS}, "text_source": "default", "warnings": [],
            "own_texts": own_texts}


def put_template(deps, shop_id: str, template: str, body: dict, saved_by: Optional[str] = None,
                 note: Optional[str] = None, texts: Optional[dict] = None) -> dict:
    """Save the shop's MJML body; its own words (``texts``, a rollback's) stay unless given."""
    from chalicelib.mail.rendering import LOCALES, TemplateError, sample_context

    load_shop(deps, shop_id)
    _known(template)
    mjml, expected = checked_mjml(body.get("mjml")), body.get("version", 0)
    parts = checked_parts(body)
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise BadRequest("version: the version you edited (0 for the default)", field="version")
    candidate = candidate_set(template, mjml, parts)
    try:
        candidate.validate()
        for locale in LOCALES:
            candidate.render(template, locale, sample_context(template, locale))
    except TemplateError as error:
        field = _part_of(error)
        raise BadRequest(f"{field}: {error}", field=field, line=getattr(error, "line", None)) from None
    current = deps.repos.templates(shop_id).get(template)
    if texts is None:
        texts = current.texts if current else {}
    try:
        stored = deps.repos.templates(shop_id).save(template, mjml, expected, deps.clock(), saved_by=saved_by,
                                                 note=note, parts=parts, texts=texts)
    except OverrideChanged:
        raise Conflict("version: the template was saved by someone else since you read it; reload it",
                       field="version") from None
    deps.caches.templates.pop(shop_id)
    return {"template": template, "overridden": True, "version": stored.version,
            "text_source": "own" if parts.get("text") else "generated from the HTML",
            "warnings": divergence(mjml, parts)}


# The longest own subject, preheader and text part of an override.
PART_LIMITS = {"subject": 300, "preheader": 500, "text": MAX_MJML_BYTES}


def checked_parts(body: dict) -> dict:
    """An override's own subject, preheader and text: optional Jinja texts; empty means "none"."""
    parts = {}
    for name, longest in PART_LIMITS.items():
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str) or len(value.encode()) > longest:
            raise BadRequest(f"{name}: text (Jinja, like the default text templates), at most {longest} bytes",
                             field=name)
        parts[name] = value
    return parts


def divergence(mjml: str, parts: dict) -> list[str]:
    """Where an override's own text part and its HTML say different things: a value one shows
    and the other does not (a code, a link, an amount). Empty when the text is made from the HTML."""
    from chalicelib.mail.plain_text import jinja_expressions

    if not parts.get("text"):
        return []
    html, text = jinja_expressions(mjml), jinja_expressions(parts["text"])
    return ([f"the text part does not show {{{{ {e} }}}}, which the HTML shows" for e in sorted(html - text)]
            + [f"the text part shows {{{{ {e} }}}}, which the HTML does not" for e in sorted(text - html)])


def _part_of(error) -> str:
    source = getattr(error, "source", None) or ""
    return next((name for name in PARTS if source.startswith("override") and source.endswith(" " + name)), "mjml")


def checked_mjml(mjml) -> str:
    if not isinstance(mjml, str) or not mjml.strip():
        raise BadRequest("mjml: the template's MJML is required", field="mjml")
    if len(mjml.encode()) > MAX_MJML_BYTES:
        raise BadRequest(f"mjml: over {MAX_MJML_BYTES} bytes", field="mjml")
    return mjml


def candidate_set(template: str, mjml: str, parts: Optional[dict] = None):
    """The default templates with ``mjml`` (and its own subject, preheader, text) as
    ``template``'s, compiled as a fresh version."""
    from chalicelib.mail.rendering import TemplateError, TemplateSet

    try:
        return TemplateSet.default().with_overrides({template: (f"candidate-{time.time_ns()}", mjml, parts or {})})
    except TemplateError as error:
        raise BadRequest(f"mjml: {error}", field="mjml") from None


def reset_template(deps, shop_id: str, template: str) -> dict:
    load_shop(deps, shop_id)
    _known(template)
    repository = deps.repos.templates(shop_id)
    current = repository.get(template)
    if current is not None and current.texts:
        # the shop's own words stay: only the body goes back to the default, as a new version
        try:
            stored = repository.save(template, None, current.version, deps.clock(), note="reset to the default body",
                                     texts=current.texts)
        except OverrideChanged:
            raise Conflict("version: the template was saved by someone else since you read it; reload it",
                           field="version") from None
        deps.caches.templates.pop(shop_id)
        return {"template": template, "overridden": False, "version": stored.version}
    repository.delete(template)
    deps.caches.templates.pop(shop_id)
    return {"template": template, "overridden": False, "version": 0}


def template_set_for(deps, shop_id: str):
    """The templates a shop's e-mails are rendered with (defaults + its overrides), cached briefly."""
    from chalicelib.mail.rendering import TemplateSet

    cached = deps.caches.templates.get(shop_id)
    if cached is not None:
        return cached
    from chalicelib.mail.texts import patch_for

    stored = deps.repos.templates(shop_id).all()
    overrides = {o.template: (f"v{o.version}", o.mjml, o.parts) for o in stored if o.mjml is not None}
    texts = {(o.template, locale): patch_for(o.template, locale, entries)
             for o in stored for locale, entries in o.texts.items()}
    templates = TemplateSet.default().with_overrides(overrides) if overrides else TemplateSet.default()
    if texts:
        templates = templates.with_texts(texts)
    return deps.caches.templates.put(shop_id, templates)


def _known(template: str) -> None:
    from chalicelib.mail.rendering import TEMPLATES

    if template not in TEMPLATES:
        raise NotFound(f"template: no e-mail {template!r} (one of {', '.join(TEMPLATES)})", field="template")
