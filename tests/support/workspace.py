"""A marketer's workspace session, the way the workspace signs in: a shop's workspace key
(minted with the admin token), then the session cookie and CSRF token on every change."""
from __future__ import annotations

import json

from tests.support.shops import ADMIN, sign_in


def workspace_headers(client, shop_id: str, label: str = "marketer") -> dict[str, str]:
    """Headers of a workspace session signed in with a new workspace key of ``shop_id``."""
    minted = client.http.post(f"/admin/shops/{shop_id}/admin-keys", headers=ADMIN,
                              body=json.dumps({"label": label}).encode())
    assert minted.status_code == 201, minted.body
    return sign_in(client, json.loads(minted.body)["admin_key"])
