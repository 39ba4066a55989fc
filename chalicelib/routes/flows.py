"""Flows: a shop's multi-step flows as data (admin API, the workspace's flow editor) and the
schedule that takes their due steps."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.flows import definitions, schedule

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/flow-definitions", methods=["GET"])
@json_route
@admin_only(bp)
def list_flow_definitions(shop_id):
    return definitions.list_flows(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/flow-definitions/{flow_id}", methods=["GET"])
@json_route
@admin_only(bp)
def get_flow_definition(shop_id, flow_id):
    return definitions.get_flow(dependencies(), shop_id, flow_id)


@bp.route("/admin/shops/{shop_id}/flow-definitions/{flow_id}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_flow_definition(shop_id, flow_id):
    body = parse_json_object(bp.current_request.raw_body)
    return definitions.put_flow(dependencies(), shop_id, flow_id, body, body.get("version", 0))


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def run_flows(event):
    # Every shop's due flow steps, each claimed once (services/flows/runner.py).
    return schedule.run_flows_now(dependencies())
