"""Loyalty: customers, codes, redemptions, the wallet, adjustments, the program, reviews, the dashboard."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.domain.access import limits
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only, storefront_key, who

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.loyalty import (adjustments, codes, customer_story, dashboard, program_settings,
                                             reviews, rewards, storefront, wallet)
    from chalicelib.services.shops import lookup

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/customers/{email}", methods=["GET"])
@json_route
@admin_only(bp)
def admin_customer(shop_id, email):
    return storefront.customer_view(dependencies(), lookup.load_shop(dependencies(), shop_id), email)


@bp.route("/admin/shops/{shop_id}/customers", methods=["GET"])
@json_route
@admin_only(bp)
def admin_customer_search(shop_id):
    query = bp.current_request.query_params or {}
    return customer_story.search_customers(dependencies(), lookup.load_shop(dependencies(), shop_id), query.get("q"))


@bp.route("/admin/shops/{shop_id}/customers/{email}/timeline", methods=["GET"])
@json_route
@admin_only(bp)
def admin_customer_timeline(shop_id, email):
    return customer_story.timeline(dependencies(), lookup.load_shop(dependencies(), shop_id), email)


@bp.route("/admin/shops/{shop_id}/customers/{email}/history", methods=["GET"])
@json_route
@admin_only(bp)
def admin_customer_history(shop_id, email):
    query = bp.current_request.query_params or {}
    return storefront.customer_history(dependencies(), lookup.load_shop(dependencies(), shop_id), email, query.get("limit"), query.get("cursor"))


@bp.route("/shops/{shop_id}/customers/{email}", methods=["GET"])
@json_route
@storefront_key(bp, limits.LOOKUP)
def customer(shop, email):
    return storefront.customer_view(dependencies(), shop, email)


@bp.route("/shops/{shop_id}/customers/{email}/history", methods=["GET"])
@json_route
@storefront_key(bp, limits.LOOKUP)
def customer_history(shop, email):
    query = bp.current_request.query_params or {}
    return storefront.customer_history(dependencies(), shop, email, query.get("limit"), query.get("cursor"))


@bp.route("/shops/{shop_id}/codes/{code}", methods=["GET"])
@json_route
@storefront_key(bp, limits.CODE_CHECK)
def check_code(shop, code):
    return codes.check_code(dependencies(), shop, code, (bp.current_request.query_params or {}).get("order_total"))


@bp.route("/shops/{shop_id}/customers/{email}/redemptions", methods=["POST"])
@json_route
@storefront_key(bp, limits.REDEEM)
def redeem(shop, email):
    return 201, storefront.redeem_points(dependencies(), shop, email, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/dashboard", methods=["GET"])
@json_route
@admin_only(bp)
def shop_dashboard(shop_id):
    return dashboard.dashboard(dependencies(), shop_id, (bp.current_request.query_params or {}).get("days"))


@bp.route("/admin/shops/{shop_id}/program", methods=["GET"])
@json_route
@admin_only(bp)
def get_program(shop_id):
    return program_settings.program_settings(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/program/preview", methods=["POST"])
@json_route
@admin_only(bp)
def preview_program(shop_id):
    return program_settings.preview_program(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/program", methods=["PUT"])
@json_route
@admin_only(bp)
def save_program(shop_id):
    return program_settings.save_program(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/customers/{email}/adjustments", methods=["POST"])
@json_route
@admin_only(bp)
def adjust_points(shop_id, email):
    return 201, adjustments.adjust_points(dependencies(), shop_id, email, parse_json_object(bp.current_request.raw_body), who())


@bp.route("/webhooks/reviews/{shop_id}", methods=["POST"], content_types=["application/json"])
@json_route
def review_webhook(shop_id):
    return reviews.receive_review(dependencies(), shop_id, bp.current_request.headers, bp.current_request.raw_body or b"")


@bp.route("/shops/{shop_id}/customers/{email}/withdrawals", methods=["POST"])
@json_route
@storefront_key(bp, limits.REDEEM)
def request_withdrawal(shop, email):
    return 201, wallet.request_withdrawal(dependencies(), shop, email, parse_json_object(bp.current_request.raw_body))


@bp.route("/shops/{shop_id}/customers/{email}/cashback-codes", methods=["POST"])
@json_route
@storefront_key(bp, limits.REDEEM)
def cashback_code(shop, email):
    return 201, wallet.cashback_code(dependencies(), shop, email, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/withdrawals", methods=["GET"])
@json_route
@admin_only(bp)
def list_withdrawals(shop_id):
    query = bp.current_request.query_params or {}
    return wallet.list_withdrawals(lookup.load_shop(dependencies(), shop_id), query.get("status"), query.get("limit"),
                                   query.get("cursor"))


@bp.route("/admin/shops/{shop_id}/withdrawals/{withdrawal_id}/{action}", methods=["POST"])
@json_route
@admin_only(bp)
def decide_withdrawal(shop_id, withdrawal_id, action):
    body = parse_json_object(bp.current_request.raw_body) if bp.current_request.raw_body else {}
    return wallet.decide_withdrawal(dependencies(), lookup.load_shop(dependencies(), shop_id), withdrawal_id, action, body)


@bp.route("/admin/shops/{shop_id}/rewards", methods=["GET"])
@json_route
@admin_only(bp)
def list_rewards(shop_id):
    return rewards.list_rewards(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/rewards/{reward_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_reward(shop_id, reward_id):
    return rewards.get_reward(dependencies(), shop_id, reward_id)


@bp.route("/admin/shops/{shop_id}/rewards/{reward_id}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_reward(shop_id, reward_id):
    return rewards.put_reward(dependencies(), shop_id, reward_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/rewards/{reward_id}", methods=["DELETE"])
@json_route
@admin_only(bp)
def delete_reward(shop_id, reward_id):
    return rewards.delete_reward(dependencies(), shop_id, reward_id)


@bp.route("/shops/{shop_id}/customers/{email}/rewards", methods=["GET"])
@json_route
@storefront_key(bp, limits.LOOKUP)
def customer_rewards(shop, email):
    return rewards.customer_rewards(dependencies(), shop, email)


@bp.route("/shops/{shop_id}/customers/{email}/rewards/{reward_id}/redemptions", methods=["POST"])
@json_route
@storefront_key(bp, limits.REDEEM)
def redeem_reward(shop, email, reward_id):
    raw = bp.current_request.raw_body
    return 201, rewards.redeem(dependencies(), shop, email, reward_id, parse_json_object(raw) if raw else {})
