"""A shop's own words for an e-mail, per locale: read as a form, checked, saved as a version
of the template (so history, diff and rollback cover them), reset to the defaults.

``GET/PUT/DELETE /admin/shops/{shop}/templates/{template}/texts/{locale}``; the keys are
those of the catalogs (``post_purchase.subject``, ``common.points``). A PUT gives the whole
set for the locale: a key left out shows the default again.
"""
from __future__ import annotations

from typing import Optional

from chalicelib.errors import BadRequest, Conflict
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.templates import templates
from chalicelib.store.templates.templates import OverrideChanged

_BODY_FIELDS = {"texts", "version", "note"}


def checked_locale(locale: str) -> str:
    from chalicelib.mail.rendering import LOCALES

    if locale not in LOCALES:
        raise BadRequest(f"locale: one of {', '.join(LOCALES)}", field="locale")
    return locale


def checked_texts(template: str, locale: str, texts) -> dict:
    """``texts`` ({key: text or plural forms}) checked against the defaults; BadRequest names the key."""
    from chalicelib.mail.texts import MAX_TEXTS, TextInvalid, check_text

    if not isinstance(texts, dict):
        raise BadRequest("texts: an object of catalog key → text", field="texts")
    if len(texts) > MAX_TEXTS:
        raise BadRequest(f"texts: at most {MAX_TEXTS} texts", field="texts")
    checked = {}
    for key, value in texts.items():
        try:
            checked[key] = check_text(template, locale, key, value)
        except TextInvalid as error:
            raise BadRequest(f"texts.{error.key}: {error.reason}", field=f"texts.{error.key}") from None
    return checked


def get_texts(deps, shop_id: str, template: str, locale: str) -> dict:
    from chalicelib.mail.texts import patch_for, texts_of

    load_shop(deps, shop_id)
    templates._known(template)
    checked_locale(locale)
    stored = deps.repos.templates(shop_id).get(template)
    patch = patch_for(template, locale, stored.texts.get(locale) if stored else None)
    return {"template": template, "locale": locale, "version": stored.version if stored else 0,
            "texts": texts_of(template, locale, patch)}


def put_texts(deps, shop_id: str, template: str, locale: str, body: dict, saved_by: Optional[str] = None) -> dict:
    from chalicelib.mail.rendering import TemplateError, TemplateSet, sample_context
    from chalicelib.mail.texts import CatalogPatch

    load_shop(deps, shop_id)
    templates._known(template)
    checked_locale(locale)
    unknown = sorted(set(body) - _BODY_FIELDS)
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field of a texts update (texts, version, note)", field=unknown[0])
    expected = body.get("version", 0)
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise BadRequest("version: the version you edited (0 for the default)", field="version")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 200):
        raise BadRequest("note: up to 200 characters", field="note")
    entries = checked_texts(template, locale, body.get("texts", {}))
    repository = deps.repos.templates(shop_id)
    current = repository.get(template)
    # rendered once with sample data: a text the e-mail cannot show is refused now, not at a send
    try:
        TemplateSet.default().with_texts({(template, locale): CatalogPatch.of(entries)}).render(
            template, locale, sample_context(template, locale))
    except TemplateError as error:
        raise BadRequest(f"texts: {error}", field="texts") from None
    texts = dict(current.texts) if current else {}
    texts[locale] = entries
    try:
        stored = repository.save(template, current.mjml if current else None, expected, deps.clock(),
                                 saved_by=saved_by, note=note or f"texts ({locale})", texts=texts,
                                 parts=current.parts if current else None)
    except OverrideChanged:
        raise Conflict("version: the template was saved by someone else since you read it; reload it",
                       field="version") from None
    deps.caches.templates.pop(shop_id)
    answer = get_texts(deps, shop_id, template, locale)
    answer["version"] = stored.version
    return answer


def reset_texts(deps, shop_id: str, template: str, locale: str, saved_by: Optional[str] = None) -> dict:
    """Every text of ``locale`` back to the default (a new version; nothing to do when none is the shop's)."""
    load_shop(deps, shop_id)
    templates._known(template)
    checked_locale(locale)
    repository = deps.repos.templates(shop_id)
    current = repository.get(template)
    if current is not None and locale in current.texts:
        texts = {other: entries for other, entries in current.texts.items() if other != locale}
        try:
            if current.mjml is None and not texts:
                repository.delete(template)
            else:
                repository.save(template, current.mjml, current.version, deps.clock(), saved_by=saved_by,
                                note=f"texts ({locale}) reset to the defaults", texts=texts,
                                parts=current.parts)
        except OverrideChanged:
            raise Conflict("version: the template was saved by someone else since you read it; reload it",
                           field="version") from None
        deps.caches.templates.pop(shop_id)
    return get_texts(deps, shop_id, template, locale)
