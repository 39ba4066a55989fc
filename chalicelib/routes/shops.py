"""Shops: created, read, listed; their webhook secrets retired."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.access import admin_auth
    from chalicelib.services.shops import shops

bp = Blueprint(__name__)


@bp.route("/admin/shops", methods=["GET"])
@json_route
@admin_only(bp)
def list_shops():
    return admin_auth.visible_shops(dependencies())


@bp.route("/admin/shops/{shop_id}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_shop(shop_id):
    view, created = shops.put_shop(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))
    return (201 if created else 200), view


@bp.route("/admin/shops/{shop_id}/flows/{template}/switch", methods=["PUT"])
@json_route
@admin_only(bp)
def switch_flow(shop_id, template):
    return shops.switch_flow(dependencies(), shop_id, template, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_shop(shop_id):
    return shops.get_shop_view(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/webhook-secrets/retire", methods=["POST"])
@json_route
@admin_only(bp)
def retire_webhook_secrets(shop_id):
    return shops.retire_previous_webhook_secrets(dependencies(), shop_id)
