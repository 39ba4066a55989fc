"""Wiring only: every route calls one service function."""
import functools

from chalice import Chalice, Rate, Response

from chalicelib.api import permissions, queues
from chalicelib.api.http import decode_path_parameters, json_route, parse_json_object
from chalicelib.domain.access import limits
from chalicelib.services.loyalty import adjustments
from chalicelib.services.access import admin_auth
from chalicelib.services.access import api_keys
from chalicelib.services.campaigns import campaigns
from chalicelib.services.loyalty import codes
from chalicelib.services.lifecycle import daily
from chalicelib.services.loyalty import dashboard
from chalicelib.services.mail import delivery_events
from chalicelib.services.campaigns import links
from chalicelib.services.mail import outbox
from chalicelib.services.loyalty import program_settings
from chalicelib.services.campaigns import results
from chalicelib.services.campaigns import segments
from chalicelib.services.shops import shops
from chalicelib.services.loyalty import storefront
from chalicelib.services.templates import template_workspace
from chalicelib.services.templates import templates
from chalicelib.services.mail import unsubscribe
from chalicelib.services.orders import webhooks
from chalicelib.api import workspace
from chalicelib.services.privacy import privacy
from chalicelib.services.loyalty import reviews
from chalicelib.services.loyalty import wallet

app = Chalice(app_name="loyalty-mail")
_WEBHOOK_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def _request():
    return app.current_request


@app.middleware("http")
def decoded_path_parameters(request, get_response):
    # Every route's path parameters arrive percent-encoded: decoded here, once, for all of them.
    return decode_path_parameters(request.uri_params) or get_response(request)


def _client_address():
    """The caller's address as API Gateway saw the connection; never X-Forwarded-For, which
    any client can write."""
    return ((_request().context or {}).get("identity") or {}).get("sourceIp")


def admin_only(view):
    """The admin API, before anything else: ``Authorization: Bearer <LOYALTY_ADMIN_TOKEN>``, or
    the workspace's session cookie (+ ``X-CSRF-Token`` on changes), limited to its shop and to
    the roles chalicelib/api/permissions.py gives this route."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        request = _request()
        route = (request.context or {}).get("resourcePath", "")
        admin_auth.authorize(request.headers, request.method, kwargs.get("shop_id"),
                             allowed_roles=permissions.allowed_roles(request.method, route),
                             address=_client_address())
        return view(*args, **kwargs)

    checked.admin_only = True
    return checked


def storefront_key(action):
    """The storefront API (``X-Api-Key``): the client address's and the key's abuse limits for
    ``action``, and the key; the view gets the shop instead of its id."""

    def decorate(view):
        @functools.wraps(view)
        def checked(shop_id, **kwargs):
            shop = api_keys.storefront_caller(shop_id, _request().headers.get("x-api-key"), action,
                                              _client_address())
            return view(shop, **kwargs)

        return checked

    return decorate


def _who():
    return admin_auth.current_principal().label


# -- admin -------------------------------------------------------------------
@app.route("/admin/shops", methods=["GET"])
@json_route
@admin_only
def list_shops():
    return admin_auth.visible_shops()


@app.route("/admin/shops/{shop_id}", methods=["PUT"])
@json_route
@admin_only
def put_shop(shop_id):
    view, created = shops.put_shop(shop_id, parse_json_object(_request().raw_body))
    return (201 if created else 200), view


@app.route("/admin/shops/{shop_id}", methods=["GET"])
@json_route
@admin_only
def get_shop(shop_id):
    return shops.get_shop_view(shop_id)


@app.route("/admin/shops/{shop_id}/webhook-secrets/retire", methods=["POST"])
@json_route
@admin_only
def retire_webhook_secrets(shop_id):
    return shops.retire_previous_webhook_secrets(shop_id)


@app.route("/admin/shops/{shop_id}/api-keys", methods=["POST"])
@json_route
@admin_only
def issue_api_key(shop_id):
    body = parse_json_object(_request().raw_body) if _request().raw_body else {}
    return 201, api_keys.issue_api_key(shop_id, body, _who())


@app.route("/admin/shops/{shop_id}/api-keys", methods=["GET"])
@json_route
@admin_only
def list_api_keys(shop_id):
    return api_keys.list_api_keys(shop_id)


@app.route("/admin/shops/{shop_id}/api-keys/{key_id}", methods=["DELETE"])
@json_route
@admin_only
def revoke_api_key(shop_id, key_id):
    return api_keys.revoke_api_key(shop_id, key_id, _who())


@app.route("/admin/shops/{shop_id}/customers/{email}", methods=["GET"])
@json_route
@admin_only
def admin_customer(shop_id, email):
    return storefront.customer_view(shops.load_shop(shop_id), email)


@app.route("/admin/shops/{shop_id}/customers/{email}/export", methods=["GET"])
@json_route
@admin_only
def export_customer(shop_id, email):
    return privacy.export_customer(shop_id, email)


@app.route("/admin/shops/{shop_id}/customers/{email}/history", methods=["GET"])
@json_route
@admin_only
def admin_customer_history(shop_id, email):
    query = _request().query_params or {}
    return storefront.customer_history(shops.load_shop(shop_id), email, query.get("limit"), query.get("cursor"))


@app.route("/admin/shops/{shop_id}/templates", methods=["GET"])
@json_route
@admin_only
def list_templates(shop_id):
    return templates.get_templates(shop_id)


@app.route("/admin/shops/{shop_id}/templates/{template}", methods=["GET"])
@json_route
@admin_only
def get_template(shop_id, template):
    return templates.get_template(shop_id, template)


@app.route("/admin/shops/{shop_id}/templates/{template}", methods=["PUT"])
@json_route
@admin_only
def put_template(shop_id, template):
    return templates.put_template(shop_id, template, parse_json_object(_request().raw_body), saved_by=_who())


@app.route("/admin/shops/{shop_id}/templates/{template}", methods=["DELETE"])
@json_route
@admin_only
def reset_template(shop_id, template):
    return templates.reset_template(shop_id, template)


@app.route("/admin/shops/{shop_id}/segments/preview", methods=["POST"])
@json_route
@admin_only
def preview_segment(shop_id):
    return segments.preview_segment(shop_id, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/campaigns", methods=["POST"])
@json_route
@admin_only
def create_campaign(shop_id):
    return 201, campaigns.create_campaign(shop_id, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/campaigns", methods=["GET"])
@json_route
@admin_only
def list_campaigns(shop_id):
    return campaigns.list_campaigns(shop_id)


@app.route("/admin/shops/{shop_id}/campaigns/{campaign_id}", methods=["GET"])
@json_route
@admin_only
def get_campaign(shop_id, campaign_id):
    return campaigns.get_campaign(shop_id, campaign_id)


@app.route("/admin/shops/{shop_id}/campaigns/{campaign_id}/stats", methods=["GET"])
@json_route
@admin_only
def campaign_stats(shop_id, campaign_id):
    return results.campaign_results(shop_id, campaign_id)


@app.route("/admin/shops/{shop_id}/flows/stats", methods=["GET"])
@json_route
@admin_only
def all_flow_stats(shop_id):
    return results.all_flow_results(shop_id)


@app.route("/admin/shops/{shop_id}/flows/{template}/stats", methods=["GET"])
@json_route
@admin_only
def flow_stats(shop_id, template):
    return results.flow_results(shop_id, template)


@app.route("/admin/shops/{shop_id}/campaigns/{campaign_id}/{action}", methods=["POST"])
@json_route
@admin_only
def change_campaign(shop_id, campaign_id, action):
    return campaigns.change_campaign(shop_id, campaign_id, action)


# -- webhooks ----------------------------------------------------------------
@app.route("/webhooks/{platform}/{shop_id}", methods=["POST"], content_types=_WEBHOOK_TYPES)
@json_route
def webhook(platform, shop_id):
    request = _request()
    return webhooks.receive_webhook(platform, shop_id, request.headers, request.raw_body or b"",
                                    request.headers.get("content-type", "application/json"))


# -- storefront --------------------------------------------------------------
@app.route("/shops/{shop_id}/customers/{email}", methods=["GET"])
@json_route
@storefront_key(limits.LOOKUP)
def customer(shop, email):
    return storefront.customer_view(shop, email)


@app.route("/shops/{shop_id}/customers/{email}/history", methods=["GET"])
@json_route
@storefront_key(limits.LOOKUP)
def customer_history(shop, email):
    query = _request().query_params or {}
    return storefront.customer_history(shop, email, query.get("limit"), query.get("cursor"))


@app.route("/shops/{shop_id}/codes/{code}", methods=["GET"])
@json_route
@storefront_key(limits.CODE_CHECK)
def check_code(shop, code):
    return codes.check_code(shop, code, (_request().query_params or {}).get("order_total"))


@app.route("/shops/{shop_id}/customers/{email}/redemptions", methods=["POST"])
@json_route
@storefront_key(limits.REDEEM)
def redeem(shop, email):
    return 201, storefront.redeem_points(shop, email, parse_json_object(_request().raw_body))


# -- queues ------------------------------------------------------------------
# Up to 10 messages per invocation, each handled on its own: a failure is reported for that
# message only (partial batch response), so only it is retried and finally dead-lettered.
# The queue names are the local ones; the deployed stages subscribe their own (infra/package.py).
@app.on_sqs_message(queue="loyalty-mail-send", batch_size=10)
def send_email(event):
    return queues.handle_each(event, outbox.deliver_record)


@app.on_sqs_message(queue="loyalty-mail-events", batch_size=10)
def delivery_events_handler(event):
    return queues.handle_each(event, lambda record: delivery_events.handle_ses_event(record.body))


# -- schedules ---------------------------------------------------------------
@app.schedule(Rate(1, unit=Rate.HOURS))
def daily_jobs(event):
    # Expiry, expiry and tier warnings, birthdays, win-back, unused codes: each in the
    # shop's own day, each idempotent, so running hourly catches every time zone.
    return daily.run_daily()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def send_due_campaigns(event):
    return campaigns.run_due_campaigns()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def republish_outbox(event):
    return outbox.republish_lingering()


# -- unsubscribe (no login: the signed token is the key) ----------------------
_FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]


@app.route("/u/{token}", methods=["GET"])
def unsubscribe_page(token):
    request = _request()
    status, page = unsubscribe.unsubscribe_page(token, request.query_params or {},
                                                accept_language=request.headers.get("accept-language"))
    return Response(page, status_code=status, headers=unsubscribe.PAGE_HEADERS)


@app.route("/u/{token}", methods=["POST"], content_types=_FORM_TYPES)
def unsubscribe_post(token):
    request = _request()
    status, page = unsubscribe.unsubscribe_post(token, request.raw_body or b"",
                                                content_type=request.headers.get("content-type"),
                                                query=request.query_params or {},
                                                accept_language=request.headers.get("accept-language"))
    return Response(page, status_code=status, headers=unsubscribe.PAGE_HEADERS)


# -- tracked links and rewards (no login: the signed token is the key) ----------
@app.route("/r/{token}", methods=["GET"])
def follow_link(token):
    answer = links.follow_link(token, accept_language=_request().headers.get("accept-language"))
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


@app.route("/r/{token}", methods=["POST"], content_types=_FORM_TYPES)
def claim_reward(token):
    answer = links.claim_reward(token, accept_language=_request().headers.get("accept-language"))
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


# -- onboarding and reconciliation (issue 10) ---------------------------------
from chalicelib.services.orders import reconciliation  # noqa: E402
from chalicelib.services.orders import webhook_health


@app.route("/admin/shops/{shop_id}/webhook-health", methods=["GET"])
@json_route
@admin_only
def get_webhook_health(shop_id):
    return webhook_health.health_view(shop_id)


@app.schedule(Rate(1, unit=Rate.HOURS))
def reconcile_orders(event):
    # Orders and refunds the platforms' webhooks lost, from their APIs, applied once.
    return reconciliation.run_reconciliation()


# -- the marketers' workspace (docs/workspace.md) ---------------------------------
@app.route("/admin", methods=["GET"])
def workspace_page():
    page = workspace.page()
    return Response(page.body, status_code=200, headers=page.headers)


@app.route("/admin/assets/{name}", methods=["GET"])
def workspace_asset(name):
    asset = workspace.asset(name)
    return Response(asset.body, status_code=asset.status, headers=asset.headers)


@app.route("/admin/session", methods=["POST"])
@json_route
def sign_in():
    view, cookie = admin_auth.sign_in(parse_json_object(_request().raw_body), _client_address())
    return Response(view, status_code=201, headers={"Content-Type": "application/json", "Set-Cookie": cookie,
                                                    "Cache-Control": "no-store"})


@app.route("/admin/session", methods=["GET"])
@json_route
def current_session():
    return Response(admin_auth.current_session(_request().headers), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


@app.route("/admin/session", methods=["DELETE"])
@json_route
def sign_out():
    view, cookie = admin_auth.sign_out(_request().headers)
    return Response(view, status_code=200, headers={"Content-Type": "application/json", "Set-Cookie": cookie})


@app.route("/admin/shops/{shop_id}/admin-keys", methods=["POST"])
@json_route
@admin_only
def issue_admin_key(shop_id):
    body = parse_json_object(_request().raw_body) if _request().raw_body else {}
    return 201, admin_auth.issue_admin_key(shop_id, body)


@app.route("/admin/shops/{shop_id}/admin-keys", methods=["GET"])
@json_route
@admin_only
def list_admin_keys(shop_id):
    return admin_auth.list_admin_keys(shop_id)


@app.route("/admin/shops/{shop_id}/admin-keys/{key_id}", methods=["DELETE"])
@json_route
@admin_only
def revoke_admin_key(shop_id, key_id):
    return admin_auth.revoke_admin_key(shop_id, key_id)


@app.route("/admin/sample-customers", methods=["GET"])
@json_route
@admin_only
def sample_customers():
    return template_workspace.sample_customers()


@app.route("/admin/shops/{shop_id}/templates/{template}/preview", methods=["POST"])
@json_route
@admin_only
def preview_template(shop_id, template):
    return template_workspace.preview_template(shop_id, template, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/templates/{template}/test-send", methods=["POST"])
@json_route
@admin_only
def send_test_email(shop_id, template):
    return template_workspace.send_test(shop_id, template, parse_json_object(_request().raw_body), _who())


@app.route("/admin/shops/{shop_id}/templates/{template}/revisions", methods=["GET"])
@json_route
@admin_only
def template_revisions(shop_id, template):
    return template_workspace.list_revisions(shop_id, template)


@app.route("/admin/shops/{shop_id}/templates/{template}/revisions/{revision}", methods=["GET"])
@json_route
@admin_only
def template_revision(shop_id, template, revision):
    return template_workspace.get_revision(shop_id, template, revision)


@app.route("/admin/shops/{shop_id}/templates/{template}/revisions/{revision}/rollback", methods=["POST"])
@json_route
@admin_only
def roll_back_template(shop_id, template, revision):
    return template_workspace.roll_back(shop_id, template, revision, parse_json_object(_request().raw_body),
                                        _who())


@app.route("/admin/shops/{shop_id}/dashboard", methods=["GET"])
@json_route
@admin_only
def shop_dashboard(shop_id):
    return dashboard.dashboard(shop_id, (_request().query_params or {}).get("days"))


@app.route("/admin/shops/{shop_id}/program", methods=["GET"])
@json_route
@admin_only
def get_program(shop_id):
    return program_settings.program_settings(shop_id)


@app.route("/admin/shops/{shop_id}/program/preview", methods=["POST"])
@json_route
@admin_only
def preview_program(shop_id):
    return program_settings.preview_program(shop_id, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/program", methods=["PUT"])
@json_route
@admin_only
def save_program(shop_id):
    return program_settings.save_program(shop_id, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/customers/{email}/adjustments", methods=["POST"])
@json_route
@admin_only
def adjust_points(shop_id, email):
    return 201, adjustments.adjust_points(shop_id, email, parse_json_object(_request().raw_body), _who())


# -- the rest of the program: reviews, cashback wallet (issue 6) ---------------
@app.route("/webhooks/reviews/{shop_id}", methods=["POST"], content_types=["application/json"])
@json_route
def review_webhook(shop_id):
    return reviews.receive_review(shop_id, _request().headers, _request().raw_body or b"")


@app.route("/shops/{shop_id}/customers/{email}/withdrawals", methods=["POST"])
@json_route
@storefront_key(limits.REDEEM)
def request_withdrawal(shop, email):
    return 201, wallet.request_withdrawal(shop, email, parse_json_object(_request().raw_body))


@app.route("/shops/{shop_id}/customers/{email}/cashback-codes", methods=["POST"])
@json_route
@storefront_key(limits.REDEEM)
def cashback_code(shop, email):
    return 201, wallet.cashback_code(shop, email, parse_json_object(_request().raw_body))


@app.route("/admin/shops/{shop_id}/withdrawals", methods=["GET"])
@json_route
@admin_only
def list_withdrawals(shop_id):
    query = _request().query_params or {}
    return wallet.list_withdrawals(shops.load_shop(shop_id), query.get("status"), query.get("limit"),
                                   query.get("cursor"))


@app.route("/admin/shops/{shop_id}/withdrawals/{withdrawal_id}/{action}", methods=["POST"])
@json_route
@admin_only
def decide_withdrawal(shop_id, withdrawal_id, action):
    body = parse_json_object(_request().raw_body) if _request().raw_body else {}
    return wallet.decide_withdrawal(shops.load_shop(shop_id), withdrawal_id, action, body)


# -- personal data (GDPR): data requests, shop erasure (docs/security.md) -------------
@app.route("/admin/shops/{shop_id}/data-requests", methods=["GET"])
@json_route
@admin_only
def list_data_requests(shop_id):
    return privacy.list_data_requests(shop_id)


@app.route("/admin/shops/{shop_id}/data-requests/{request_id}", methods=["GET"])
@json_route
@admin_only
def get_data_request(shop_id, request_id):
    return privacy.get_data_request(shop_id, request_id)


@app.route("/admin/shops/{shop_id}", methods=["DELETE"])
@json_route
@admin_only
def delete_shop(shop_id):
    return privacy.delete_shop(shop_id)


@app.route("/admin/shops/{shop_id}/erasure", methods=["GET"])
@json_route
@admin_only
def shop_erasure(shop_id):
    return privacy.erasure_status(shop_id)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def erase_shops(event):
    # Shops erased by shop/redact or DELETE /admin/shops/{shop}: what the request could not finish.
    return privacy.run_shop_erasures()


# -- sending as a shop: sending domains, held mail, test recipients (docs/security.md) ------
from chalicelib.services.mail import sender_domains  # noqa: E402
from chalicelib.services.templates import test_recipients


@app.route("/admin/shops/{shop_id}/sender-domains", methods=["GET"])
@json_route
@admin_only
def list_sender_domains(shop_id):
    return sender_domains.list_domains(shop_id)


@app.route("/admin/shops/{shop_id}/sender-domains", methods=["POST"])
@json_route
@admin_only
def register_sender_domain(shop_id):
    view, created = sender_domains.register_domain(shop_id, parse_json_object(_request().raw_body))
    return (201 if created else 200), view


@app.route("/admin/shops/{shop_id}/sender-domains/{domain}", methods=["GET"])
@json_route
@admin_only
def get_sender_domain(shop_id, domain):
    return sender_domains.get_domain(shop_id, domain)


@app.route("/admin/shops/{shop_id}/sender-domains/{domain}", methods=["DELETE"])
@json_route
@admin_only
def remove_sender_domain(shop_id, domain):
    return sender_domains.remove_domain(shop_id, domain)


@app.route("/admin/shops/{shop_id}/test-recipients", methods=["GET"])
@json_route
@admin_only
def list_test_recipients(shop_id):
    return test_recipients.list_recipients(shop_id)


@app.route("/admin/shops/{shop_id}/test-recipients", methods=["POST"])
@json_route
@admin_only
def add_test_recipient(shop_id):
    return test_recipients.add_recipient(shop_id, parse_json_object(_request().raw_body), _who())


@app.route("/admin/shops/{shop_id}/test-recipients/{email}", methods=["DELETE"])
@json_route
@admin_only
def remove_test_recipient(shop_id, email):
    return test_recipients.remove_recipient(shop_id, email)


@app.route("/test-recipients/confirm/{token}", methods=["GET"])
def test_recipient_confirm_page(token):
    status, page = test_recipients.confirm_page(token)
    return Response(page, status_code=status, headers=unsubscribe.PAGE_HEADERS)


@app.route("/test-recipients/confirm/{token}", methods=["POST"], content_types=_FORM_TYPES)
def test_recipient_confirm(token):
    status, page = test_recipients.confirm_post(token)
    return Response(page, status_code=status, headers=unsubscribe.PAGE_HEADERS)


@app.schedule(Rate(10, unit=Rate.MINUTES))
def refresh_sender_domains(event):
    # SES's verdict on domains still waiting for DNS; held mail of shops that can send now goes out.
    return sender_domains.refresh_all()
