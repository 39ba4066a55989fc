"""Campaigns: segments, planning, results, the send schedule; tracked links and rewards (no login: the signed token is the key)."""
from __future__ import annotations

from chalice import Blueprint, Rate, Response

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import FORM_TYPES, admin_only, who

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.campaigns import (campaigns, due_sends, links, offer_mail, offers, planner, results,
                                               saved_segments, segments)

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/segments/preview", methods=["POST"])
@json_route
@admin_only(bp)
def preview_segment(shop_id):
    return segments.preview_segment(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/campaigns", methods=["POST"])
@json_route
@admin_only(bp)
def create_campaign(shop_id):
    return 201, campaigns.create_campaign(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/offers", methods=["POST"])
@json_route
@admin_only(bp)
def create_offer(shop_id):
    return 201, offers.create_offer(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/offers/{offer_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_offer(shop_id, offer_id):
    return offer_mail.get_offer(dependencies(), shop_id, offer_id)


@bp.route("/admin/shops/{shop_id}/offers/{offer_id}/sends", methods=["POST"])
@json_route
@admin_only(bp)
def send_offer(shop_id, offer_id):
    body = parse_json_object(bp.current_request.raw_body) if bp.current_request.raw_body else {}
    return 202, offer_mail.send_offer(dependencies(), shop_id, offer_id, body)


@bp.route("/admin/shops/{shop_id}/campaigns/preview", methods=["POST"])
@json_route
@admin_only(bp)
def preview_campaign(shop_id):
    return campaigns.preview_campaign(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/segments", methods=["GET"])
@json_route
@admin_only(bp)
def list_saved_segments(shop_id):
    return saved_segments.list_segments(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/segments/{segment_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_saved_segment(shop_id, segment_id):
    return saved_segments.get_segment(dependencies(), shop_id, segment_id)


@bp.route("/admin/shops/{shop_id}/segments/{segment_id}", methods=["PUT"])
@json_route
@admin_only(bp)
def save_segment(shop_id, segment_id):
    return saved_segments.save_segment(dependencies(), shop_id, segment_id,
                                       parse_json_object(bp.current_request.raw_body), who())


@bp.route("/admin/shops/{shop_id}/segments/{segment_id}", methods=["DELETE"])
@json_route
@admin_only(bp)
def delete_saved_segment(shop_id, segment_id):
    return saved_segments.delete_segment(dependencies(), shop_id, segment_id)


@bp.route("/admin/shops/{shop_id}/campaign-preview", methods=["POST"])
@json_route
@admin_only(bp)
def preview_campaign_audience(shop_id):
    return planner.preview_campaign(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/campaign-test-send", methods=["POST"])
@json_route
@admin_only(bp)
def test_send_campaign(shop_id):
    return planner.test_send_campaign(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body), who())


@bp.route("/admin/shops/{shop_id}/campaigns", methods=["GET"])
@json_route
@admin_only(bp)
def list_campaigns(shop_id):
    return campaigns.list_campaigns(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/campaigns/{campaign_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_campaign(shop_id, campaign_id):
    return campaigns.get_campaign(dependencies(), shop_id, campaign_id)


@bp.route("/admin/shops/{shop_id}/campaigns/{campaign_id}/stats", methods=["GET"])
@json_route
@admin_only(bp)
def campaign_stats(shop_id, campaign_id):
    return results.campaign_results(dependencies(), shop_id, campaign_id)


@bp.route("/admin/shops/{shop_id}/flows/stats", methods=["GET"])
@json_route
@admin_only(bp)
def all_flow_stats(shop_id):
    return results.all_flow_results(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/flows/{template}/stats", methods=["GET"])
@json_route
@admin_only(bp)
def flow_stats(shop_id, template):
    return results.flow_results(dependencies(), shop_id, template)


@bp.route("/admin/shops/{shop_id}/campaigns/{campaign_id}/{action}", methods=["POST"])
@json_route
@admin_only(bp)
def change_campaign(shop_id, campaign_id, action):
    return campaigns.change_campaign(dependencies(), shop_id, campaign_id, action)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def send_due_campaigns(event):
    # Due campaigns, then scheduled offer e-mails (services/campaigns/due_sends.py).
    return due_sends.run_due_sends(dependencies())


@bp.route("/r/{token}", methods=["GET", "HEAD"])
def follow_link(token):
    head = bp.current_request.method == "HEAD"
    answer = links.follow_link(dependencies(), token, accept_language=bp.current_request.headers.get("accept-language"),
                               count_click=not head)
    return Response("" if head else answer.body, status_code=answer.status, headers=answer.headers)


@bp.route("/r/{token}", methods=["POST"], content_types=FORM_TYPES)
def claim_reward(token):
    answer = links.claim_reward(dependencies(), token, accept_language=bp.current_request.headers.get("accept-language"))
    return Response(answer.body, status_code=answer.status, headers=answer.headers)
