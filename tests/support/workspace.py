"""A marketer's workspace session, the way the workspace signs in: a shop's workspace key
(minted with the admin token), then the session cookie and CSRF token on every change."""
from __future__ import annotations

import json

ADMIN = {"Authorization": "Bearer test-admin-token", "Content-Type": "application/json"}


def workspace_headers(client, shop_id: str, label: str = "marketer") -> dict[str, str]:
    """Headers of a workspace session signed in with a new workspace key of ``shop_id``."""
    minted = client.http.post(f"/admin/shops/{shop_id}/admin-keys", headers=ADMIN,
                              body=json.dumps({"label": label}).encode())
    assert minted.status_code == 201, minted.body
    key = json.loads(minted.body)["admin_key"]
    response = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                body=json.dumps({"key": key}).encode())
    assert response.status_code == 201, response.body
    cookie = {k.lower(): v for k, v in response.headers.items()}["set-cookie"].split(";")[0]
    return {"Cookie": cookie, "X-CSRF-Token": json.loads(response.body)["csrf_token"],
            "Content-Type": "application/json"}
