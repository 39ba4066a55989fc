"""Templates: a shop's overrides, previews, revisions, test sends and test recipients."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.mail.pages import PAGE_HEADERS
from chalicelib.routes.guards import FORM_TYPES, admin_only, who

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.templates import template_workspace, templates, test_recipients, texts

bp = Blueprint(__name__)


@bp.route("/admin/shops/{shop_id}/templates", methods=["GET"])
@json_route
@admin_only(bp)
def list_templates(shop_id):
    return templates.get_templates(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/templates/{template}", methods=["GET"])
@json_route
@admin_only(bp)
def get_template(shop_id, template):
    return templates.get_template(dependencies(), shop_id, template)


@bp.route("/admin/shops/{shop_id}/templates/{template}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_template(shop_id, template):
    return templates.put_template(dependencies(), shop_id, template, parse_json_object(bp.current_request.raw_body), saved_by=who())


@bp.route("/admin/shops/{shop_id}/templates/{template}", methods=["DELETE"])
@json_route
@admin_only(bp)
def reset_template(shop_id, template):
    return templates.reset_template(dependencies(), shop_id, template)


@bp.route("/admin/shops/{shop_id}/templates/{template}/texts/{locale}", methods=["GET"])
@json_route
@admin_only(bp)
def get_template_texts(shop_id, template, locale):
    return texts.get_texts(dependencies(), shop_id, template, locale)


@bp.route("/admin/shops/{shop_id}/templates/{template}/texts/{locale}", methods=["PUT"])
@json_route
@admin_only(bp)
def put_template_texts(shop_id, template, locale):
    return texts.put_texts(dependencies(), shop_id, template, locale, parse_json_object(bp.current_request.raw_body),
                           saved_by=who())


@bp.route("/admin/shops/{shop_id}/templates/{template}/texts/{locale}", methods=["DELETE"])
@json_route
@admin_only(bp)
def reset_template_texts(shop_id, template, locale):
    return texts.reset_texts(dependencies(), shop_id, template, locale, saved_by=who())


@bp.route("/admin/sample-customers", methods=["GET"])
@json_route
@admin_only(bp)
def sample_customers():
    return template_workspace.sample_customers()


@bp.route("/admin/shops/{shop_id}/templates/{template}/preview", methods=["POST"])
@json_route
@admin_only(bp)
def preview_template(shop_id, template):
    return template_workspace.preview_template(dependencies(), shop_id, template, parse_json_object(bp.current_request.raw_body))


@bp.route("/admin/shops/{shop_id}/templates/{template}/test-send", methods=["POST"])
@json_route
@admin_only(bp)
def send_test_email(shop_id, template):
    return template_workspace.send_test(dependencies(), shop_id, template, parse_json_object(bp.current_request.raw_body), who())


@bp.route("/admin/shops/{shop_id}/templates/{template}/revisions", methods=["GET"])
@json_route
@admin_only(bp)
def template_revisions(shop_id, template):
    return template_workspace.list_revisions(dependencies(), shop_id, template)


@bp.route("/admin/shops/{shop_id}/templates/{template}/revisions/{revision}", methods=["GET"])
@json_route
@admin_only(bp)
def template_revision(shop_id, template, revision):
    return template_workspace.get_revision(dependencies(), shop_id, template, revision)


@bp.route("/admin/shops/{shop_id}/templates/{template}/revisions/{revision}/rollback", methods=["POST"])
@json_route
@admin_only(bp)
def roll_back_template(shop_id, template, revision):
    return template_workspace.roll_back(dependencies(), shop_id, template, revision, parse_json_object(bp.current_request.raw_body),
                                        who())


@bp.route("/admin/shops/{shop_id}/test-recipients", methods=["GET"])
@json_route
@admin_only(bp)
def list_test_recipients(shop_id):
    return test_recipients.list_recipients(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/test-recipients", methods=["POST"])
@json_route
@admin_only(bp)
def add_test_recipient(shop_id):
    return test_recipients.add_recipient(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body), who())


@bp.route("/admin/shops/{shop_id}/test-recipients/{email}", methods=["DELETE"])
@json_route
@admin_only(bp)
def remove_test_recipient(shop_id, email):
    return test_recipients.remove_recipient(dependencies(), shop_id, email)


@bp.route("/test-recipients/confirm/{token}", methods=["GET"])
def test_recipient_confirm_page(token):
    status, page = test_recipients.confirm_page(dependencies(), token)
    return Response(page, status_code=status, headers=PAGE_HEADERS)


@bp.route("/test-recipients/confirm/{token}", methods=["POST"], content_types=FORM_TYPES)
def test_recipient_confirm(token):
    status, page = test_recipients.confirm_post(dependencies(), token)
    return Response(page, status_code=status, headers=PAGE_HEADERS)
