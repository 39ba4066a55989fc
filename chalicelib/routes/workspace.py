"""The marketers' workspace: its page and bundled assets (docs/workspace.md)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import workspace

bp = Blueprint(__name__)


@bp.route("/admin", methods=["GET"])
def workspace_page():
    page = workspace.page()
    return Response(page.body, status_code=200, headers=page.headers)


@bp.route("/admin/assets/{name}", methods=["GET"])
def workspace_asset(name):
    asset = workspace.asset(name)
    return Response(asset.body, status_code=asset.status, headers=asset.headers)
