"""Keys that can be revoked, and roles (issue 14, item 5): every row of the permission table
called through HTTP in every role, keys listed and revoked with immediate effect, last use
noted without a write per request."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from chalicelib import composition
import pytest

from chalicelib.api import permissions
from chalicelib.domain.access.roles import MARKETER, OPERATOR, OWNER
from tests.support.shops import ADMIN, issue_workspace_key, register_shop, sign_in
from tests.support.emulator import table_fingerprint

NOW = datetime(2031, 3, 14, 9, 30, 30, tzinfo=timezone.utc)  # fixed: nothing here depends on today
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
_PATH_VALUES = {"email": "nobody@example.com", "template": "post_purchase", "campaign_id": "c-unknown",
                "action": "pause", "revision": "r-unknown", "key_id": "0" * 16, "withdrawal_id": "w-unknown",
                "request_id": "dr-unknown", "domain": "unknown.example", "flow_id": "second-purchase",
                "locale": "de", "segment_id": "s-unknown", "product_id": "p-unknown",
                "reward_id": "free-shipping", "offer_id": "of_unknown"}


@pytest.fixture
def clock(monkeypatch):
    moment = [NOW]
    composition.use_clock(lambda: moment[0])
    return moment


@pytest.fixture
def callers(client):
    """Headers per caller: the operator's token, the shop's owner and marketer sessions, and
    the owner of another shop."""
    shop = register_shop(client, "role-shop", "shopify")
    register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    return shop, {
        OPERATOR: {**ADMIN},
        OWNER: sign_in(client, issue_workspace_key(client, shop.shop_id, OWNER, "Iryna (owner)")),
        MARKETER: sign_in(client, issue_workspace_key(client, shop.shop_id, MARKETER, "Olena (marketing)")),
        "other shop's owner": sign_in(client, issue_workspace_key(client, "other-shop", OWNER, "Taras")),
    }


def _call(client, method: str, path: str, headers: dict, body: dict | None = None):
    raw = json.dumps(body if body is not None else {}).encode() if method in ("POST", "PUT") else b""
    response = client.http.request(method, path, headers=headers, body=raw)
    return response.status_code, (json.loads(response.body) if response.body else {})


def _path(route: str, shop_id: str) -> str:
    values = {**_PATH_VALUES, "shop_id": shop_id}
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], route)


# -- the table, row by row, through HTTP -------------------------------------------------

@pytest.mark.parametrize("method,route", sorted(permissions.PERMISSIONS),
                         ids=[f"{m} {r}" for m, r in sorted(permissions.PERMISSIONS)])
def test_every_row_of_the_permission_table_holds_for_every_role(client, callers, method, route):
    shop, headers = callers
    allowed = permissions.PERMISSIONS[(method, route)]
    path = _path(route, shop.shop_id)
    for role in (MARKETER, OWNER, OPERATOR):  # the least powerful first: a refusal must change nothing
        before = table_fingerprint()
        status, body = _call(client, method, path, headers[role])
        if role in allowed:
            assert status != 401 and not (status == 403 and "role" in body), (role, status, body)
        else:
            assert status == 403 and body["error"] == "forbidden" and body["role"] == role, (role, status, body)
            assert table_fingerprint() == before, f"refused {role} changed the table"
    before = table_fingerprint()
    status, body = _call(client, method, path, headers["other shop's owner"])
    if "{shop_id}" in route:
        # never another shop: refused for the shop, or, on an operator's route, for the role first
        assert status == 403 and (body.get("field") == "shop_id" or (OWNER not in allowed and body.get("role") == OWNER)), \
            (status, body)
        assert table_fingerprint() == before
    else:
        assert status != 403, body


def test_the_table_names_every_admin_route_and_nothing_else():
    from app import app

    guarded = {(method, path) for path, entries in app.routes.items() for method, entry in entries.items()
               if getattr(entry.view_function, "admin_only", False)}
    assert guarded, "no route is guarded by admin_only?"
    assert sorted(guarded - set(permissions.PERMISSIONS)) == [], "admin routes without a row (operator only)"
    assert sorted(set(permissions.PERMISSIONS) - guarded) == [], "rows for routes that are not admin routes"


def test_docs_security_shows_the_table_as_the_code_has_it():
    assert permissions.markdown_table() in SECURITY_DOC.read_text(encoding="utf-8")


def test_a_route_missing_from_the_table_is_the_operators_alone():
    assert permissions.allowed_roles("POST", "/admin/shops/{shop_id}/some-new-route") == {OPERATOR}
    assert permissions.allowed_roles("put", "/admin/shops/{shop_id}") == {OPERATOR, OWNER}


# -- what the roles are for ---------------------------------------------------------------

def test_a_marketer_cannot_change_the_sender_or_the_platform_credentials(client, callers):
    shop, headers = callers
    before = _call(client, "GET", f"/admin/shops/{shop.shop_id}", ADMIN)[1]
    changes = ({"sender_email": "ceo@role-shop.example"}, {"webhook_secret": "whsec-attacker-0123456789"},
               {"platform_api": {"access_token": "shpat_attacker"}})
    for change in changes:
        document = {**{k: before[k] for k in ("name", "platform", "currency", "default_locale", "timezone",
                                             "sender_email", "storefront_url")}, **change}
        status, body = _call(client, "PUT", f"/admin/shops/{shop.shop_id}", headers[MARKETER], document)
        assert status == 403 and body["role"] == MARKETER
    assert _call(client, "GET", f"/admin/shops/{shop.shop_id}", ADMIN)[1] == before
    document = {**{k: before[k] for k in ("platform", "currency", "default_locale", "timezone", "sender_email",
                                         "storefront_url")}, "name": "Role shop, renamed by its owner"}
    status, body = _call(client, "PUT", f"/admin/shops/{shop.shop_id}", headers[OWNER], document)
    assert status == 200 and body["name"] == "Role shop, renamed by its owner"  # the owner may change settings


def test_who_may_issue_which_workspace_key(client, callers):
    shop, headers = callers
    url = f"/admin/shops/{shop.shop_id}/admin-keys"
    status, issued = _call(client, "POST", url, headers[OWNER], {"label": "new marketer"})
    assert status == 201 and issued["role"] == MARKETER  # no role given: the least powerful
    assert _call(client, "POST", url, headers[OWNER], {"label": "co-owner", "role": OWNER})[0] == 201
    status, body = _call(client, "POST", url, headers[MARKETER], {"role": MARKETER})
    assert status == 403 and body["role"] == MARKETER
    status, body = _call(client, "POST", url, ADMIN, {"role": "admin"})
    assert status == 400 and body["field"] == "role"
    assert _call(client, "POST", f"/admin/shops/{shop.shop_id}/api-keys", headers[MARKETER])[0] == 403
    status, session = _call(client, "GET", "/admin/session", {"Cookie": headers[MARKETER]["Cookie"]})
    assert session["role"] == MARKETER and session["shop_id"] == shop.shop_id


def test_a_workspace_key_from_before_roles_is_a_marketers(client, callers):
    from chalicelib.services.access.admin_auth import _hash
    from chalicelib.store import keys
    from chalicelib.store.models import AdminKeyItem

    shop, _ = callers
    legacy = f"lka.{shop.shop_id}.legacy-key-issued-before-roles-0123456789"
    AdminKeyItem(keys.shop_pk(shop.shop_id), keys.admin_key_sk(_hash(legacy)), label="old",
                 created_at="2025-01-01T00:00:00+00:00").save()
    headers = sign_in(client, legacy)
    assert _call(client, "GET", "/admin/session", headers)[1]["role"] == MARKETER
    assert _call(client, "GET", f"/admin/shops/{shop.shop_id}/admin-keys", headers)[0] == 403


# -- listing and revoking ------------------------------------------------------------------

def test_storefront_keys_are_listed_without_secrets_and_a_revoked_key_stops_at_once(client, clock, callers):
    shop, headers = callers
    second = json.loads(client.http.post(f"/admin/shops/{shop.shop_id}/api-keys", headers=ADMIN,
                                         body=json.dumps({"label": "POS"}).encode()).body)
    assert shop.customer("nobody@example.com")[0] == 404  # the fixture's key works (no such customer)
    status, listed = _call(client, "GET", f"/admin/shops/{shop.shop_id}/api-keys", headers[OWNER])
    assert status == 200 and len(listed["api_keys"]) == 2
    text = json.dumps(listed)
    assert shop.api_key not in text and second["api_key"] not in text
    first_id = next(key["key_id"] for key in listed["api_keys"] if key["key_id"] != second["key_id"])
    used = {key["key_id"]: key["last_used_at"] for key in listed["api_keys"]}
    assert used[first_id] == "2031-03-14T09:30:30.000000Z" and used[second["key_id"]] is None
    assert all(key["active"] and key["created_at"] == "2031-03-14T09:30:30.000000Z" for key in listed["api_keys"])

    status, revoked = _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/api-keys/{first_id}", headers[OWNER])
    assert status == 200 and revoked["active"] is False and revoked["revoked_by"] == "key Iryna (owner)"
    status, refused = shop.customer("nobody@example.com")
    assert status == 401 and "revoked" in refused["message"]
    still = client.http.get(f"/shops/{shop.shop_id}/customers/nobody@example.com",
                            headers={"X-Api-Key": second["api_key"]})
    assert still.status_code == 404  # the other key keeps working
    assert _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/api-keys/{first_id}", ADMIN)[0] == 200  # twice: fine
    assert _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/api-keys/{'f' * 16}", ADMIN)[0] == 404
    assert _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/api-keys/not-an-id", ADMIN)[0] == 404
    listed = _call(client, "GET", f"/admin/shops/{shop.shop_id}/api-keys", ADMIN)[1]["api_keys"]
    assert [key["active"] for key in listed if key["key_id"] == first_id] == [False]


def test_last_use_is_written_at_most_once_per_interval(client, clock, callers, monkeypatch):
    shop, _ = callers
    composition.use(config={"key_last_used_seconds": 60})

    def last_used():
        (key,) = _call(client, "GET", f"/admin/shops/{shop.shop_id}/api-keys", ADMIN)[1]["api_keys"]
        return key["last_used_at"]

    shop.customer("nobody@example.com")
    assert last_used() == "2031-03-14T09:30:30.000000Z"
    clock[0] = NOW + timedelta(seconds=59)
    shop.customer("nobody@example.com")
    assert last_used() == "2031-03-14T09:30:30.000000Z"  # within the interval: not written again
    clock[0] = NOW + timedelta(seconds=61)
    shop.customer("nobody@example.com")
    assert last_used() == "2031-03-14T09:31:31.000000Z"


def test_revoking_a_workspace_key_ends_its_sessions_with_the_next_request(client, clock, callers):
    shop, headers = callers
    status, listed = _call(client, "GET", f"/admin/shops/{shop.shop_id}/admin-keys", headers[OWNER])
    by_label = {key["label"]: key for key in listed["admin_keys"]}
    assert by_label["Olena (marketing)"]["role"] == MARKETER and by_label["Iryna (owner)"]["role"] == OWNER
    assert by_label["Olena (marketing)"]["last_used_at"] == "2031-03-14T09:30:30.000000Z"  # signed in
    assert "lka." not in json.dumps(listed)
    templates = f"/admin/shops/{shop.shop_id}/templates"
    assert _call(client, "GET", templates, headers[MARKETER])[0] == 200

    marketer_id = by_label["Olena (marketing)"]["key_id"]
    status, revoked = _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/admin-keys/{marketer_id}",
                            headers[OWNER])
    assert status == 200 and revoked["active"] is False
    status, body = _call(client, "GET", templates, headers[MARKETER])
    assert status == 401 and "revoked" in body["message"]
    assert _call(client, "GET", templates, headers[OWNER])[0] == 200  # other keys' sessions go on


def test_a_revoked_workspace_key_cannot_sign_in_again(client, callers):
    shop, _ = callers
    key = issue_workspace_key(client, shop.shop_id, MARKETER, "temp")
    listed = _call(client, "GET", f"/admin/shops/{shop.shop_id}/admin-keys", ADMIN)[1]["admin_keys"]
    (key_id,) = [entry["key_id"] for entry in listed if entry["label"] == "temp"]
    assert _call(client, "DELETE", f"/admin/shops/{shop.shop_id}/admin-keys/{key_id}", ADMIN)[0] == 200
    status, body = _call(client, "POST", "/admin/session", {"Content-Type": "application/json"}, {"key": key})
    assert status == 401 and body["field"] == "key"
