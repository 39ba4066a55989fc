"""The workspace's API: sessions and per-shop keys, CSRF, template preview, test sends,
revisions and rollback, dashboard counters, program impact, manual adjustments."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from devstack.samples import sample_order_payload
from devstack.sent_mail import sent_mail
from tests.support.shops import ADMIN, confirm_test_recipient, register_shop
from tests.support.webhooks import deliver_shopify

BROKEN = "<mj-section><mj-column>\n<mj-text>ok</mj-text>\n<mj-text>{{ no_such_value }}</mj-text>\n</mj-column></mj-section>"
CUSTOM = "<mj-section><mj-column><mj-text>Hello {{ customer.first_name }}, version {{ 1 + 1 }}</mj-text></mj-column></mj-section>"


def _header(response, name: str) -> str:
    return {k.lower(): v for k, v in response.headers.items()}[name.lower()]


def _json(response):
    return response.status_code, json.loads(response.body) if response.body else None


def _sign_in(client, key):
    response = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                body=json.dumps({"key": key}).encode())
    status, body = _json(response)
    if status != 201:
        return status, body, None
    cookie = _header(response, "set-cookie")
    return status, body, {"Cookie": cookie.split(";")[0], "X-CSRF-Token": body["csrf_token"],
                          "Content-Type": "application/json"}


def _admin_key(client, shop_id, label="Olena (marketing)", role="marketer"):
    return _json(client.http.post(f"/admin/shops/{shop_id}/admin-keys", headers=ADMIN,
                                  body=json.dumps({"label": label, "role": role}).encode()))[1]["admin_key"]


def test_shop_key_signs_in_to_its_own_shop_only(client, shopify_shop):
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    key = _admin_key(client, shopify_shop.shop_id)
    assert key.startswith(f"lka.{shopify_shop.shop_id}.")
    status, session, headers = _sign_in(client, key)
    assert status == 201 and session["shop_id"] == shopify_shop.shop_id
    assert [s["shop_id"] for s in session["shops"]] == [shopify_shop.shop_id]

    response = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                body=json.dumps({"key": key}).encode())
    cookie = _header(response, "set-cookie")
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert flag in cookie

    cookie_only = {"Cookie": headers["Cookie"]}
    assert client.http.get(f"/admin/shops/{shopify_shop.shop_id}/templates", headers=cookie_only).status_code == 200
    assert client.http.get(f"/admin/shops/{other.shop_id}/templates", headers=cookie_only).status_code == 403
    assert [s["shop_id"] for s in _json(client.http.get("/admin/shops", headers=cookie_only))[1]["shops"]] == [
        shopify_shop.shop_id]
    # a shop's key cannot mint keys, nor reach another shop by a change
    assert client.http.post(f"/admin/shops/{shopify_shop.shop_id}/admin-keys", headers=headers,
                            body=b"{}").status_code == 403
    assert client.http.put(f"/admin/shops/{other.shop_id}/templates/post_purchase", headers=headers,
                           body=json.dumps({"mjml": CUSTOM, "version": 0}).encode()).status_code == 403


def test_changes_need_the_csrf_token_and_sign_out_ends_the_session(client, shopify_shop):
    _, _, headers = _sign_in(client, "test-admin-token")
    url = f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase"
    body = json.dumps({"mjml": CUSTOM, "version": 0}).encode()
    without = {k: v for k, v in headers.items() if k != "X-CSRF-Token"}
    status, error = _json(client.http.put(url, headers=without, body=body))
    assert status == 403 and error["field"] == "X-CSRF-Token"
    assert client.http.put(url, headers={**without, "X-CSRF-Token": "forged"}, body=body).status_code == 403
    assert client.http.put(url, headers=headers, body=body).status_code == 200

    assert _json(client.http.get("/admin/session", headers=without))[1]["csrf_token"] == headers["X-CSRF-Token"]
    assert client.http.delete("/admin/session", headers=headers).status_code == 200
    assert client.http.get(url, headers=without).status_code == 401


def test_wrong_keys_are_refused(client, shopify_shop):
    assert _sign_in(client, "wrong")[0] == 401
    assert _sign_in(client, f"lka.{shopify_shop.shop_id}.made-up")[0] == 401
    assert _sign_in(client, "")[0] == 400
    assert client.http.get("/admin/shops", headers={"Cookie": "lm_session=unknown"}).status_code == 401
    assert client.http.get("/admin/shops").status_code == 401


def test_preview_renders_unsaved_mjml_and_shows_errors_with_their_line(client, shopify_shop):
    url = f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview"
    status, shown = _json(client.http.post(url, headers=ADMIN, body=json.dumps(
        {"mjml": CUSTOM, "locale": "de", "sample_customer": "regular"}).encode()))
    assert status == 200 and shown["ok"] and "Hello Jonas, version 2" in shown["html"]
    assert shown["subject"] and "UAH" not in shown["subject"] and shown["text"]
    # the customer without a name shows that this template breaks for them, and where
    status, shown = _json(client.http.post(url, headers=ADMIN, body=json.dumps(
        {"mjml": CUSTOM, "locale": "de", "sample_customer": "no_name"}).encode()))
    assert shown["ok"] is False and "None" in shown["error"]
    greeting = CUSTOM.replace("Hello {{ customer.first_name }},", "{{ greeting }}")
    named, unnamed = (_json(client.http.post(url, headers=ADMIN, body=json.dumps(
        {"mjml": greeting, "locale": "de", "sample_customer": who}).encode()))[1] for who in ("regular", "no_name"))
    assert "Jonas" in named["html"] and "Jonas" not in unnamed["html"] and unnamed["ok"]
    status, shown = _json(client.http.post(url, headers=ADMIN, body=json.dumps({"mjml": BROKEN}).encode()))
    assert status == 200 and shown["ok"] is False and "no_such_value" in shown["error"]
    assert shown["line"] == shown["editor_line"] == 3 and shown["source"].startswith("override post_purchase")
    status, error = _json(client.http.post(url, headers=ADMIN, body=json.dumps(
        {"mjml": CUSTOM, "sample_customer": "nobody"}).encode()))
    assert status == 400 and error["field"] == "sample_customer"
    status, shown = _json(client.http.post(url, headers=ADMIN, body=b"{}"))  # the saved (default) template
    assert shown["ok"] and "<html" in shown["html"]


def test_test_send_reaches_the_outbox_marked_as_test_and_counts_nothing(client, shopify_shop, moto_endpoint):
    confirm_test_recipient(client, shopify_shop.shop_id, "marketer@agency.example", moto_endpoint)
    before = len(sent_mail(moto_endpoint))
    status, sent = _json(client.http.post(
        f"/admin/shops/{shopify_shop.shop_id}/templates/special_day/test-send", headers=ADMIN,
        body=json.dumps({"mjml": CUSTOM, "locale": "en", "to": "marketer@agency.example"}).encode()))
    assert status == 200 and sent["subject"].startswith("[TEST] ")
    (mail,) = sent_mail(moto_endpoint)[before:]
    assert mail.recipients == ["marketer@agency.example"] and mail.subject.startswith("[TEST] ")
    assert "Hello Emily, version 2" in mail.part("text/html") and "List-Unsubscribe" not in mail.headers()
    stats = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/flows/special_day/stats", headers=ADMIN))[1]
    assert stats["sent"] == 0
    status, error = _json(client.http.post(
        f"/admin/shops/{shopify_shop.shop_id}/templates/special_day/test-send", headers=ADMIN,
        body=json.dumps({"mjml": CUSTOM, "to": "not an address"}).encode()))
    assert status == 400 and error["field"] == "to"


def test_every_save_is_a_revision_with_a_diff_and_rollback_saves_a_new_version(client, shopify_shop):
    base = f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase"
    first = CUSTOM
    second = CUSTOM.replace("Hello", "Welcome back")
    assert _json(client.http.put(base, headers=ADMIN, body=json.dumps({"mjml": first, "version": 0}).encode()))[1][
        "version"] == 1
    assert _json(client.http.put(base, headers=ADMIN, body=json.dumps({"mjml": second, "version": 1}).encode()))[1][
        "version"] == 2
    revisions = _json(client.http.get(f"{base}/revisions", headers=ADMIN))[1]
    assert [r["version"] for r in revisions["revisions"]] == [2, 1]
    assert revisions["revisions"][0]["current"] and revisions["revisions"][0]["saved_by"] == "admin token"
    oldest = revisions["revisions"][1]["revision"]
    shown = _json(client.http.get(f"{base}/revisions/{oldest}", headers=ADMIN))[1]
    assert shown["mjml"] == first and "-<mj-section><mj-column><mj-text>Welcome back" in shown["diff"]
    assert "+<mj-section><mj-column><mj-text>Hello" in shown["diff"]

    stale = client.http.post(f"{base}/revisions/{oldest}/rollback", headers=ADMIN,
                             body=json.dumps({"version": 1}).encode())
    assert stale.status_code == 409
    status, rolled = _json(client.http.post(f"{base}/revisions/{oldest}/rollback", headers=ADMIN,
                                            body=json.dumps({"version": 2}).encode()))
    assert status == 200 and rolled["version"] == 3
    assert _json(client.http.get(base, headers=ADMIN))[1]["mjml"] == first
    newest = _json(client.http.get(f"{base}/revisions", headers=ADMIN))[1]["revisions"][0]
    assert newest["version"] == 3 and newest["note"].startswith("rollback to version 1")
    assert client.http.get(f"{base}/revisions/20200101T000000000000Z", headers=ADMIN).status_code == 404
    assert client.http.get(f"{base}/revisions/nonsense", headers=ADMIN).status_code == 400

    # after a reset to the default, saving again starts at version 1 without losing the history
    client.http.delete(base, headers=ADMIN)
    assert _json(client.http.put(base, headers=ADMIN, body=json.dumps({"mjml": second, "version": 0}).encode()))[1][
        "version"] == 1
    assert len(_json(client.http.get(f"{base}/revisions", headers=ADMIN))[1]["revisions"]) == 4


def _order(deps, shop, order_id, email):
    payload = sample_order_payload("shopify", order_id=order_id, email=email)
    return deliver_shopify(deps, shop.shop_id, shop.secret, payload, "orders/paid")


def test_dashboard_counts_orders_points_members_and_liability_on_write(deps, client, shopify_shop):
    for number, email in enumerate(["a@example.com", "b@example.com", "a@example.com"], start=1):
        assert _order(deps, shopify_shop, str(9000 + number), email)["result"] == "applied"
    _order(deps, shopify_shop, "9001", "a@example.com")  # a duplicate counts nothing
    a = shopify_shop.customer("a@example.com")[1]
    b = shopify_shop.customer("b@example.com")[1]
    status, board = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/dashboard?days=7", headers=ADMIN))
    assert status == 200 and len(board["days"]) == 7
    today = board["days"][-1]
    assert board["now"]["customers"] == 2
    assert board["now"]["points_outstanding"] == a["points_balance"] + b["points_balance"]
    assert today["points_issued"] == a["points_balance"] + b["points_balance"]
    assert today["active_customers"] == 2  # a's second order the same day is not a second active customer
    sides = {side: board["period"][side] for side in ("member", "non_member")}
    assert sum(side["orders"] for side in sides.values()) == 3
    repeat_orders = sum(side["repeat_purchase_rate"] * side["orders"] for side in sides.values() if side["orders"])
    assert repeat_orders == pytest.approx(1)  # a's second order; the first orders of a and b are not repeats
    assert Decimal(board["now"]["outstanding_value"]) == Decimal(board["now"]["points_outstanding"])  # 1 per point

    # redemptions and manual adjustments move the running totals
    shopify_shop.redeem("a@example.com", 100)
    status, done = _json(client.http.post(
        f"/admin/shops/{shopify_shop.shop_id}/customers/a@example.com/adjustments", headers=ADMIN,
        body=json.dumps({"points": -5, "reason": "goodwill correction", "request_id": "req-00000001"}).encode()))
    assert status == 201 and done["result"] == "applied"
    after = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/dashboard", headers=ADMIN))[1]
    assert after["days"][-1]["points_redeemed"] == 100 and after["days"][-1]["points_adjusted"] == -5
    assert after["now"]["points_outstanding"] == board["now"]["points_outstanding"] - 105
    assert client.http.get(f"/admin/shops/{shopify_shop.shop_id}/dashboard?days=0", headers=ADMIN).status_code == 400


def test_adjustment_is_audited_in_the_history_and_happens_once(deps, client, shopify_shop):
    _order(deps, shopify_shop, "7001", "c@example.com")
    balance = shopify_shop.customer("c@example.com")[1]["points_balance"]
    key = _admin_key(client, shopify_shop.shop_id, label="Olena", role="owner")  # money: an owner's key
    _, _, headers = _sign_in(client, key)
    url = f"/admin/shops/{shopify_shop.shop_id}/customers/c@example.com/adjustments"
    body = json.dumps({"points": 25, "reason": "parcel arrived late", "request_id": "click-0000001"}).encode()
    assert _json(client.http.post(url, headers=headers, body=body))[1]["result"] == "applied"
    assert _json(client.http.post(url, headers=headers, body=body))[1]["result"] == "duplicate"
    assert shopify_shop.customer("c@example.com")[1]["points_balance"] == balance + 25
    newest = shopify_shop.history("c@example.com")[1]["entries"][0]
    assert newest["kind"] == "adjust" and newest["points"] == 25
    assert newest["detail"] == {"reason": "parcel arrived late", "by": "key Olena"}

    too_much = json.dumps({"points": -(balance + 26), "reason": "x", "request_id": "click-0000002"}).encode()
    assert client.http.post(url, headers=headers, body=too_much).status_code == 409
    for bad, field in (({"points": 0, "reason": "x", "request_id": "click-0000003"}, "points"),
                       ({"points": 5, "reason": " ", "request_id": "click-0000003"}, "reason"),
                       ({"points": 5, "reason": "x"}, "request_id")):
        status, error = _json(client.http.post(url, headers=headers, body=json.dumps(bad).encode()))
        assert status == 400 and error["field"] == field
    assert client.http.post(f"/admin/shops/{shopify_shop.shop_id}/customers/nobody@example.com/adjustments",
                            headers=headers, body=json.dumps({"points": 5, "reason": "x",
                                                              "request_id": "click-0000004"}).encode()
                            ).status_code == 404


def test_program_preview_counts_tier_changes_and_liability_before_saving(deps, client, shopify_shop):
    _order(deps, shopify_shop, "8001", "big@example.com")
    _order(deps, shopify_shop, "8002", "small@example.com")
    spend = {e: Decimal(shopify_shop.customer(e)[1]["lifetime_spend"]) for e in ("big@example.com",
                                                                                   "small@example.com")}
    current = _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/program", headers=ADMIN))[1]
    program = dict(current["program"])
    threshold = min(spend.values())
    program["tiers"] = [{"name": "Bronze", "min_spend": str(threshold), "discount_percent": "2"}]
    program["point_value"] = "2"
    body = {"program": program}
    status, impact = _json(client.http.post(f"/admin/shops/{shopify_shop.shop_id}/program/preview", headers=ADMIN,
                                            body=json.dumps(body).encode()))
    assert status == 200, impact
    assert impact["customers_read"] == 2 and not impact["truncated"]
    before = {shopify_shop.customer(e)[1]["tier"] for e in spend}
    assert impact["tier_changes"] == sum(1 for t in [shopify_shop.customer(e)[1]["tier"] for e in spend]
                                         if t != "Bronze")
    assert before != {"Bronze"}
    outstanding = impact["points_outstanding"]
    assert Decimal(impact["outstanding_value_change"]) == Decimal(outstanding)  # point value 1 → 2
    # nothing was saved by the preview
    assert _json(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/program", headers=ADMIN))[1]["program"][
        "point_value"] == current["program"]["point_value"]

    broken = {**program, "tiers": [{"name": "A", "min_spend": "10", "discount_percent": "5"},
                                   {"name": "B", "min_spend": "20", "discount_percent": "1"}]}
    status, error = _json(client.http.post(f"/admin/shops/{shopify_shop.shop_id}/program/preview", headers=ADMIN,
                                           body=json.dumps({"program": broken}).encode()))
    assert status == 400 and error["field"].startswith("program.tiers")
    status, error = _json(client.http.put(f"/admin/shops/{shopify_shop.shop_id}/program", headers=ADMIN,
                                          body=json.dumps({"program": program, "webhook_secret": "x"}).encode()))
    assert status == 400 and error["field"] == "webhook_secret"

    status, saved = _json(client.http.put(f"/admin/shops/{shopify_shop.shop_id}/program", headers=ADMIN,
                                          body=json.dumps(body).encode()))
    assert status == 200, saved
    assert saved["program"]["point_value"] == "2"
    # the webhook secret survived the save: a signed order still applies
    assert _order(deps, shopify_shop, "8003", "small@example.com")["result"] == "applied"


def test_workspace_page_and_assets_are_served(client):
    page = client.http.get("/admin")
    assert page.status_code == 200 and _header(page, "content-type").startswith("text/html")
    assert "default-src 'self'" in _header(page, "content-security-policy")
    assert b'src="admin/assets/app.js?v=' in page.body
    # its own (empty) icon: the browser's /favicon.ico asked the API, whose 403 was a console error on every load
    assert b'<link rel="icon" href="data:,">' in page.body and "img-src * data:" in _header(page, "content-security-policy")
    script = client.http.get("/admin/assets/app.js")
    assert script.status_code == 200 and _header(script, "content-type").startswith("text/javascript")
    assert len(script.body) > 10_000
    assert client.http.get("/admin/assets/app.css").status_code == 200
    assert client.http.get("/admin/assets/..%2Fservices%2Fshops.py").status_code == 404
