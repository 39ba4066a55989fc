"""A shop's template overrides: one item per overridden e-mail, under the shop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import TemplateOverrideItem, TemplateRevisionItem, over_version, stored_version

TEMPLATE_SK_PREFIX = "TEMPLATE#"


PARTS = ("subject", "preheader", "text")


class _OwnParts:
    """The parts a saved template gives itself (subject, preheader, text), by name, left out when not given."""

    @property
    def parts(self) -> dict:
        return {name: getattr(self, name) for name in PARTS if getattr(self, name)}


@dataclass(frozen=True)
class StoredOverride(_OwnParts):
    template: str
    version: int
    mjml: Optional[str]  # None: the default body (only the shop's texts are its own)
    updated_at: str
    # The override's own subject, preheader and plain text (None: not given).
    subject: Optional[str] = None
    preheader: Optional[str] = None
    text: Optional[str] = None
    texts: dict = field(default_factory=dict)  # the shop's words: {locale: {catalog key: text}}


@dataclass(frozen=True)
class Revision(_OwnParts):
    """One saved version of a template (``revision`` is its id: when it was saved)."""

    revision: str
    version: int
    saved_at: str
    saved_by: Optional[str]
    note: Optional[str]
    mjml: Optional[str] = None
    subject: Optional[str] = None
    preheader: Optional[str] = None
    text: Optional[str] = None
    texts: dict = field(default_factory=dict)


class OverrideChanged(Exception):
    """Someone saved this template since it was read."""


class TemplateOverrides:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def all(self) -> list[StoredOverride]:
        """Every override of the shop: one Query."""
        return [_stored(item) for item in TemplateOverrideItem.query(
            keys.shop_pk(self.shop_id), TemplateOverrideItem.sk.startswith(TEMPLATE_SK_PREFIX))]

    def get(self, template: str) -> Optional[StoredOverride]:
        try:
            return _stored(TemplateOverrideItem.get(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template,
                                                    consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, template: str, mjml: Optional[str], expected_version: int, now: datetime,
             saved_by: Optional[str] = None, note: Optional[str] = None, parts: Optional[dict] = None,
             texts: Optional[dict] = None) -> StoredOverride:
        """The override (with its own subject, preheader and text, if given, and the shop's words
        per locale) and its revision, in one transaction on the version the editor read.
        ``mjml`` None keeps the default body; ``texts`` are the shop's words ({locale: {key: text}})."""
        updated_at = keys.iso(now)
        own = {name: (parts or {}).get(name) or None for name in PARTS}
        texts = {locale: entries for locale, entries in (texts or {}).items() if entries} or None
        item = over_version(TemplateOverrideItem(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template,
                                                 template=template, mjml=mjml, texts=texts, updated_at=updated_at, **own),
                            expected_version)
        revision = TemplateRevisionItem(keys.shop_pk(self.shop_id), keys.template_revision_sk(template, now),
                                        template=template, version=expected_version + 1, mjml=mjml, texts=texts,
                                        saved_at=updated_at, saved_by=saved_by, note=note, **own)
        try:
            with TransactWrite(connection=connection()) as write:
                write.save(item)
                write.save(revision, condition=TemplateRevisionItem.sk.does_not_exist())
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise OverrideChanged(template) from error
            raise
        return _stored(item)

    def revisions(self, template: str, limit: int = 50) -> list[Revision]:
        """The newest ``limit`` revisions of a template, newest first (one Query, no MJML)."""
        prefix = f"{keys.TEMPLATE_REVISION_SK_PREFIX}{template}#"
        rows = TemplateRevisionItem.query(keys.shop_pk(self.shop_id), TemplateRevisionItem.sk.startswith(prefix),
                                          scan_index_forward=False, limit=limit,
                                          attributes_to_get=["sk", "version", "saved_at", "saved_by", "note",
                                                             "type"])
        return [Revision(row.sk[len(prefix):], int(row.version), row.saved_at, row.saved_by, row.note)
                for row in rows]

    def revision(self, template: str, revision: str) -> Optional[Revision]:
        try:
            row = TemplateRevisionItem.get(keys.shop_pk(self.shop_id),
                                           f"{keys.TEMPLATE_REVISION_SK_PREFIX}{template}#{revision}",
                                           consistent_read=True)
        except DoesNotExist:
            return None
        return Revision(revision, int(row.version), row.saved_at, row.saved_by, row.note, row.mjml,
                        row.subject, row.preheader, row.text, row.texts or {})

    def delete(self, template: str) -> None:
        # Back to the default whatever the version: deleting is not an edit that could be lost.
        TemplateOverrideItem(keys.shop_pk(self.shop_id), TEMPLATE_SK_PREFIX + template).delete(
            add_version_condition=False)


def _stored(item: TemplateOverrideItem) -> StoredOverride:
    return StoredOverride(item.template, stored_version(item), item.mjml, item.updated_at,
                          item.subject, item.preheader, item.text, item.texts or {})
