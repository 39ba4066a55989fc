"""Mail: the send queue and SES events, the outbox sweep, unsubscribe pages, sending domains."""
from __future__ import annotations

from chalice import Blueprint, Rate, Response

from chalicelib.api import queues
from chalicelib.api.http import json_route, parse_json_object
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.mail.pages import PAGE_HEADERS
from chalicelib.routes.guards import FORM_TYPES, admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.mail import outbox
    from chalicelib.services.mail import deferred, delivery_events, send_consumer, sender_sizing, unsubscribe
    from chalicelib.services.products import recommendations
    from chalicelib.services.shops import sender_domains

bp = Blueprint(__name__)
LOCAL_TABLE_STREAM_ARN = "arn:aws:dynamodb:eu-central-1:123456789012:table/loyalty/stream/local"


# Up to 10 messages per invocation, each handled on its own: a failure is reported for that
# message only (partial batch response), so only it is retried and finally dead-lettered.
# The queue names are the local ones; the deployed stages subscribe their own (infra/package.py).
@bp.on_sqs_message(queue="loyalty-mail-send", batch_size=10)
def send_email(event):
    # The sent e-mails' final writes wait for the batch's end and go in one request (send_consumer.BatchFinals).
    # Its size is the shared rate limiter's hint: the batch's slots of a second are reserved at once.
    deps, finals = dependencies(), send_consumer.BatchFinals(len(event.to_dict().get("Records", [])))
    response = queues.handle_each(event, lambda record: send_consumer.deliver_record(deps, record, finals))
    return send_consumer.finish_batch(deps, finals, response)


@bp.on_sqs_message(queue="loyalty-mail-events", batch_size=10)
def delivery_events_handler(event):
    # The batch's SES lookups are read at once and its results counts added at its end (delivery_events.EventBatch).
    deps = dependencies()
    batch = delivery_events.EventBatch([record.get("body") for record in event.to_dict().get("Records", [])])
    try:
        return queues.handle_each(event, lambda record: delivery_events.handle_ses_event(deps, record.body, batch=batch))
    finally:
        batch.finish(deps)


# New outbox items, from the table's stream, to the send queue. The ARN is the local table's;
# the deployed stages subscribe their own table's stream, filtered to outbox inserts (infra/package.py).
@bp.on_dynamodb_record(stream_arn=LOCAL_TABLE_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def publish_outbox(event):
    deps = dependencies()
    return outbox.publish_stream_records(deps, event.to_dict().get("Records", []), prepare=_prepared(deps))


@bp.schedule(Rate(1, unit=Rate.HOURS))
def size_sender(event):
    return sender_sizing.size_sender(dependencies())


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def republish_outbox(event):
    deps = dependencies()
    return outbox.republish_lingering(deps, prepare=_prepared(deps))


def _prepared(deps):
    """What a post-purchase e-mail gets on its way to the send queue: its recommendations."""
    return lambda messages: recommendations.add_recommendations(deps, messages)


@bp.schedule(Rate(10, unit=Rate.MINUTES))
def release_deferred_mail(event):
    return deferred.release_deferred_mail(dependencies())


# HEAD (link checkers, mail scanners) answers as GET without the page; neither changes anything.
@bp.route("/u/{token}", methods=["GET", "HEAD"])
def unsubscribe_page(token):
    request = bp.current_request
    status, page = unsubscribe.unsubscribe_page(dependencies(), token, request.query_params or {},
                                                accept_language=request.headers.get("accept-language"))
    return Response("" if request.method == "HEAD" else page, status_code=status, headers=PAGE_HEADERS)


@bp.route("/u/{token}", methods=["POST"], content_types=FORM_TYPES)
def unsubscribe_post(token):
    request = bp.current_request
    status, page = unsubscribe.unsubscribe_post(dependencies(), token, request.raw_body or b"",
                                                content_type=request.headers.get("content-type"),
                                                query=request.query_params or {},
                                                accept_language=request.headers.get("accept-language"))
    return Response(page, status_code=status, headers=PAGE_HEADERS)


@bp.route("/admin/shops/{shop_id}/sender-domains", methods=["GET"])
@json_route
@admin_only(bp)
def list_sender_domains(shop_id):
    return sender_domains.list_domains(dependencies(), shop_id)


@bp.route("/admin/shops/{shop_id}/sender-domains", methods=["POST"])
@json_route
@admin_only(bp)
def register_sender_domain(shop_id):
    view, created = sender_domains.register_domain(dependencies(), shop_id, parse_json_object(bp.current_request.raw_body))
    return (201 if created else 200), view


@bp.route("/admin/shops/{shop_id}/sender-domains/{domain}", methods=["GET"])
@json_route
@admin_only(bp)
def get_sender_domain(shop_id, domain):
    return sender_domains.get_domain(dependencies(), shop_id, domain)


@bp.route("/admin/shops/{shop_id}/sender-domains/{domain}", methods=["DELETE"])
@json_route
@admin_only(bp)
def remove_sender_domain(shop_id, domain):
    return sender_domains.remove_domain(dependencies(), shop_id, domain)


@bp.schedule(Rate(10, unit=Rate.MINUTES))
def refresh_sender_domains(event):
    # SES's verdict on domains still waiting for DNS; held mail of shops that can send now goes out.
    return sender_domains.refresh_all(dependencies())
