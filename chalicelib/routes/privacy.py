"""Personal data (GDPR): exports, data requests, shop erasure (docs/security.md)."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.api.http import json_route
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.privacy import privacy

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/customers/{email}/export", methods=["GET"])
@json_route
@admin_only(bp)
def export_customer(shop_id, email):
    return privacy.export_customer(dependencies(), shop_id, email)


@bp.route("/admin/shops/{shop_id}/data-requests", methods=["GET"])
@json_route
@admin_only(bp)
def list_data_requests(shop_id):
    return privacy.list_data_requests(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/data-requests/{request_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_data_request(shop_id, request_id):
    return privacy.get_data_request(dependencies(), shop_id, request_id)


@bp.route("/admin/shops/{shop_id}", methods=["DELETE"])
@json_route
@admin_only(bp)
def delete_shop(shop_id):
    return privacy.delete_shop(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/erasure", methods=["GET"])
@json_route
@admin_only(bp)
def shop_erasure(shop_id):
    return privacy.erasure_status(shop_id)


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def erase_shops(event):
    # Shops erased by shop/redact or DELETE /admin/shops/{shop}: what the request could not finish.
    return privacy.run_shop_erasures(dependencies())
