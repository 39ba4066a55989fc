"""Who may call: storefront API keys, workspace keys and sessions."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only, client_address, who

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.access import admin_auth, api_keys

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/api-keys", methods=["POST"])
@json_route
@admin_only(bp)
def issue_api_key(shop_id):
    body = parse_json_object(bp.current_request.raw_body) if bp.current_request.raw_body else {}
    return 201, api_keys.issue_api_key(dependencies(), shop_id, body, who())


@bp.route("/admin/shops/{shop_id}/api-keys", methods=["GET"])
@json_route
@admin_only(bp)
def list_api_keys(shop_id):
    return api_keys.list_api_keys(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/api-keys/{key_id}", methods=["DELETE"])
@json_route
@admin_only(bp)
def revoke_api_key(shop_id, key_id):
    return api_keys.revoke_api_key(dependencies(), shop_id, key_id, who())


@bp.route("/admin/session", methods=["POST"])
@json_route
def sign_in():
    view, cookie = admin_auth.sign_in(dependencies(), parse_json_object(bp.current_request.raw_body), client_address(bp.current_request))
    return Response(view, status_code=201, headers={"Content-Type": "application/json", "Set-Cookie": cookie,
                                                    "Cache-Control": "no-store"})


@bp.route("/admin/session", methods=["GET"])
@json_route
def current_session():
    return Response(admin_auth.current_session(dependencies(), bp.current_request.headers), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


@bp.route("/admin/session", methods=["DELETE"])
@json_route
def sign_out():
    view, cookie = admin_auth.sign_out(dependencies(), bp.current_request.headers)
    return Response(view, status_code=200, headers={"Content-Type": "application/json", "Set-Cookie": cookie})


@bp.route("/admin/shops/{shop_id}/admin-keys", methods=["POST"])
@json_route
@admin_only(bp)
def issue_admin_key(shop_id):
    body = parse_json_object(bp.current_request.raw_body) if bp.current_request.raw_body else {}
    return 201, admin_auth.issue_admin_key(dependencies(), shop_id, body)


@bp.route("/admin/shops/{shop_id}/admin-keys", methods=["GET"])
@json_route
@admin_only(bp)
def list_admin_keys(shop_id):
    return admin_auth.list_admin_keys(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/admin-keys/{key_id}", methods=["DELETE"])
@json_route
@admin_only(bp)
def revoke_admin_key(shop_id, key_id):
    return admin_auth.revoke_admin_key(dependencies(), shop_id, key_id)
