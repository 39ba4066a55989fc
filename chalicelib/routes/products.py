"""Products: the catalog kept from order lines and the platforms' product webhooks, and the
recommendations computed from the shop's own orders (admin API)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.products import catalog, recommendations

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/products", methods=["GET"])
@json_route
@admin_only(bp)
def list_products(shop_id):
    return catalog.list_products(dependencies(), shop_id, bp.current_request.query_params or {})


@bp.route("/admin/shops/{shop_id}/products/{product_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_product(shop_id, product_id):
    return catalog.get_product(dependencies(), shop_id, product_id)


@bp.route("/admin/shops/{shop_id}/products/{product_id}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_product_setting(shop_id, product_id):
    deps = dependencies()
    return catalog.put_setting(deps, shop_id, product_id, parse_json_object(bp.current_request.raw_body), deps.clock())


@bp.route("/admin/shops/{shop_id}/recommendations/run", methods=["POST"])
@json_route
@admin_only(bp)
def run_recommendations(shop_id):
    return recommendations.run_for_shop(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/customers/{email}/recommendations", methods=["GET"])
@json_route
@admin_only(bp)
def get_customer_recommendations(shop_id, email):
    return recommendations.customer_recommendations(dependencies(), shop_id, email)
