"""Shops as the tests set them up through the admin API: the admin headers, a shop's document,
``register_shop`` and the handle a test talks to the shop's endpoints through."""
from __future__ import annotations

import json
from dataclasses import dataclass

from devstack.samples import signed_request

ADMIN = {"Authorization": "Bearer test-admin-token", "Content-Type": "application/json"}
SECRET = "whsec-test-0123456789abcdef"


def shop_document(platform: str, **overrides) -> dict:
    document = {
        "name": "Demo electronics", "platform": platform, "webhook_secret": SECRET, "currency": "UAH",
        "default_locale": "uk", "timezone": "Europe/Kyiv", "sender_email": "loyalty@shop.example",
        "storefront_url": "https://shop.example", "program": {"cashback_percent": "2"},
        # Most tests send on the real clock, at whatever hour the suite runs: no night for them. The
        # quiet hours (on by default, 21:00–08:00) have their own tests on fixed clocks.
        "quiet_hours": None,
    }
    document.update(overrides)
    return document


@dataclass
class ShopHandle:
    client: object
    shop_id: str
    platform: str
    api_key: str
    secret: str = SECRET

    def deliver(self, payload: dict, *, topic: str | None = None, event_id: str | None = None,
                platform: str | None = None, secret: str | None = None):
        platform = platform or self.platform
        headers, body = signed_request(platform, secret or self.secret, payload, topic=topic, event_id=event_id)
        return self.client.http.post(f"/webhooks/{platform}/{self.shop_id}", headers=headers, body=body)

    def customer(self, email: str):
        response = self.client.http.get(f"/shops/{self.shop_id}/customers/{email}", headers={"X-Api-Key": self.api_key})
        return response.status_code, json.loads(response.body)

    def history(self, email: str, query: str = ""):
        response = self.client.http.get(f"/shops/{self.shop_id}/customers/{email}/history{query}",
                                        headers={"X-Api-Key": self.api_key})
        return response.status_code, json.loads(response.body)

    def redeem(self, email: str, points):
        response = self.client.http.post(f"/shops/{self.shop_id}/customers/{email}/redemptions",
                                         headers={"X-Api-Key": self.api_key, "Content-Type": "application/json"},
                                         body=json.dumps({"points": points}).encode())
        return response.status_code, json.loads(response.body)


def register_shop(client, shop_id: str, platform: str, **overrides) -> ShopHandle:
    response = client.http.put(f"/admin/shops/{shop_id}", headers=ADMIN,
                               body=json.dumps(shop_document(platform, **overrides)).encode())
    assert response.status_code == 201, response.body
    key = json.loads(client.http.post(f"/admin/shops/{shop_id}/api-keys", headers=ADMIN).body)["api_key"]
    return ShopHandle(client, shop_id, platform, key)


def issue_workspace_key(client, shop_id: str, role: str = "marketer", label: str = "Olena",
                        headers: dict | None = None) -> str:
    response = client.http.post(f"/admin/shops/{shop_id}/admin-keys", headers=headers or ADMIN,
                                body=json.dumps({"label": label, "role": role}).encode())
    assert response.status_code == 201, response.body
    return json.loads(response.body)["admin_key"]


def sign_in(client, key: str) -> dict:
    """The headers of a signed-in workspace session (cookie and CSRF token), for every method."""
    response = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                body=json.dumps({"key": key}).encode())
    assert response.status_code == 201, response.body
    cookie = {k.lower(): v for k, v in response.headers.items()}["set-cookie"].split(";")[0]
    return {"Cookie": cookie, "X-CSRF-Token": json.loads(response.body)["csrf_token"],
            "Content-Type": "application/json"}


def confirm_test_recipient(client, shop_id: str, email: str, emulator_url: str | None = None) -> None:
    """Add a test recipient through the admin API and press Confirm in the e-mail it gets (read
    from the emulator at ``emulator_url``, or, without one, from SES in this process)."""
    import re
    from urllib.parse import urlsplit

    from devstack.sent_mail import sent_mail
    from tests.support.emulator import sent_mail_in_process

    response = client.http.post(f"/admin/shops/{shop_id}/test-recipients", headers=ADMIN,
                                 body=json.dumps({"email": email}).encode())
    assert response.status_code in (200, 202), response.body
    if json.loads(response.body)["status"] == "confirmed":
        return
    mails = sent_mail(emulator_url) if emulator_url else sent_mail_in_process()
    mail = [m for m in mails if email.lower() in [r.lower() for r in m.recipients]][-1]
    link = re.search(r"https?://\S+/test-recipients/confirm/[A-Za-z0-9_.-]+", mail.part("text/plain")).group(0)
    path = urlsplit(link).path
    confirmed = client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    assert confirmed.status_code == 200, confirmed.body
