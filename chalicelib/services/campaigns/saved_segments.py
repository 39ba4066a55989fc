"""Named segments a shop saves once and reuses across campaigns (the planner's "Saved segments").

``PUT /admin/shops/{shop}/segments/{segment_id} {"name", "rules", "version"}`` saves one (checked
like a campaign's segment, on the version read: 409 when someone saved it meanwhile); GET lists or
reads them, DELETE removes one. A campaign copies the rules it is planned with: changing a saved
segment later does not change who a planned campaign reaches.
"""
from __future__ import annotations

import re
from typing import Optional

from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.campaigns.segments import validate_segment
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.campaigns.saved_segments import SegmentChanged

_SEGMENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_SAVED = 200
_FIELDS = {"name", "rules", "version"}


def _view(segment) -> dict:
    return {"segment_id": segment.segment_id, "name": segment.name, "rules": segment.rules,
            "version": segment.version, "updated_at": segment.updated_at, "updated_by": segment.updated_by}


def _checked_id(segment_id: str) -> str:
    if not _SEGMENT_ID.match(segment_id or ""):
        raise BadRequest("segment_id: 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit",
                         field="segment_id")
    return segment_id


def list_segments(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)
    segments = sorted(deps.repos.saved_segments(shop_id).all(), key=lambda s: s.name.casefold())
    return {"segments": [_view(s) for s in segments]}


def get_segment(deps, shop_id: str, segment_id: str) -> dict:
    load_shop(deps, shop_id)
    found = deps.repos.saved_segments(shop_id).get(_checked_id(segment_id))
    if found is None:
        raise NotFound(f"segment_id: no saved segment {segment_id!r}", field="segment_id")
    return _view(found)


def save_segment(deps, shop_id: str, segment_id: str, body: dict, saved_by: Optional[str] = None) -> dict:
    load_shop(deps, shop_id)
    _checked_id(segment_id)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field of a saved segment (name, rules, version)", field=unknown[0])
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise BadRequest("name: 1-100 characters", field="name")
    expected = body.get("version", 0)
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise BadRequest("version: the version you edited (0 for a new segment)", field="version")
    try:
        validate_segment({"rules": body.get("rules")})
    except BadRequest as error:
        raise BadRequest(f"segment.{error.message}", field=f"segment.{error.field}") from None
    repository = deps.repos.saved_segments(shop_id)
    if expected == 0 and len(repository.all()) >= MAX_SAVED:
        raise BadRequest(f"segment_id: at most {MAX_SAVED} saved segments per shop", field="segment_id")
    try:
        saved = repository.save(segment_id, name.strip(), body["rules"], expected, deps.clock(), updated_by=saved_by)
    except SegmentChanged:
        raise Conflict("version: the segment was saved by someone else since you read it; reload it",
                       field="version") from None
    return _view(saved)


def delete_segment(deps, shop_id: str, segment_id: str) -> dict:
    load_shop(deps, shop_id)
    deps.repos.saved_segments(shop_id).delete(_checked_id(segment_id))
    return {"segment_id": segment_id, "deleted": True}
