"""The outbox reaches the send queue through the table's DynamoDB Stream: the webhook does its one
read and one transaction and nothing else; the stream handler publishes the new outbox item; the
sweeper stays the safety net. On the emulator, whose stream has the real record shapes."""
from __future__ import annotations

import dataclasses
import json
import os
from datetime import timedelta

import boto3
import pytest

from chalicelib.mail import outbox
from chalicelib.services.mail import send_consumer
from devstack.samples import DEFAULT_EMAIL, sample_order_payload
from devstack.stream_poller import enable_stream, wanted
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.webhooks import deliver_shopify


@pytest.fixture
def streamed(deps, monkeypatch):
    """The deps with LOYALTY_OUTBOX_STREAM on, the table's stream on, and a reader of its records."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's in-process streams
    deps.config = dataclasses.replace(deps.config, outbox_stream=True)
    table = deps.config.table_name
    stream_arn = enable_stream(boto3.client("dynamodb"), table)
    streams = boto3.client("dynamodbstreams")
    iterators = {shard["ShardId"]: streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                              ShardIteratorType="LATEST")["ShardIterator"]
                 for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]}

    def new_records() -> list[dict]:
        records = []
        for shard, iterator in list(iterators.items()):
            answer = streams.get_records(ShardIterator=iterator)
            records += answer["Records"]
            iterators[shard] = answer["NextShardIterator"]
        return records

    return new_records


def _calls(monkeypatch) -> list[str]:
    """Every AWS request made from now on: through botocore, or answered on the store's lean path
    (store/lean_requests.py; a lean try that botocore then makes again is counted once)."""
    import botocore.client

    from chalicelib.store import lean_requests

    made: list[str] = []
    original, lean = botocore.client.BaseClient._make_api_call, lean_requests.plain_answer

    def counted(client, operation, params):
        made.append(f"{client.meta.service_model.service_name}.{operation}")
        return original(client, operation, params)

    def counted_lean(client, operation, parameters):
        answer = lean(client, operation, parameters)
        if answer is not None:
            made.append(f"dynamodb.{operation}")
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    monkeypatch.setattr(lean_requests, "plain_answer", counted_lean)
    return made


def test_the_webhook_commits_and_the_stream_publishes(deps, shopify_shop, streamed, monkeypatch):
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    made = _calls(monkeypatch)
    result = deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                             sample_order_payload("shopify", order_id="5001", email=DEFAULT_EMAIL), "orders/paid")
    assert result["result"] == "applied"
    webhook_calls = [call for call in made if not call.startswith("dynamodb.Describe")]
    assert not any(call.startswith("sqs.") for call in webhook_calls), webhook_calls  # nothing sent to SQS inline
    assert webhook_calls.count("dynamodb.TransactWriteItems") == 1
    # one read and one transaction: a post-purchase e-mail's recommendations are looked up on its way
    # to the send queue, not in the webhook
    assert webhook_calls.count("dynamodb.TransactGetItems") == 1
    assert not {"dynamodb.GetItem", "dynamodb.BatchGetItem"} & set(webhook_calls), webhook_calls
    assert drain_queue(queue) == []

    records = streamed()
    assert any(wanted(record) for record in records)
    # the post-purchase mail and the tier mail (the sample order reaches Silver)
    assert outbox.publish_stream_records(deps, records) == {"published": 2}
    (message,) = drain_queue(queue, "post_purchase")
    assert message["idempotency_key"] == "post_purchase:5001"
    assert message["outbox_key"]["pk"].startswith("OUTBOX#" + shopify_shop.shop_id)

    assert send_consumer.deliver(deps, json.dumps(message))["status"] == "sent"
    assert outbox_items(shopify_shop.shop_id, "post_purchase") == []  # cleared by the sender, as before
    # the delete (and every other write) comes down the stream too, and publishes nothing
    assert outbox.publish_stream_records(deps, streamed()) == {"published": 0}


def test_a_lost_stream_record_is_still_sent_by_the_sweeper(deps, shopify_shop, streamed):
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                    sample_order_payload("shopify", order_id="5002", email=DEFAULT_EMAIL), "orders/paid")
    streamed()  # read and dropped: the handler never ran (records aged out, or it kept failing)
    assert drain_queue(queue) == []
    assert outbox.republish_lingering(deps, deps.clock() + timedelta(minutes=5))["republished"] == 2  # and its tier mail
    assert [m["idempotency_key"] for m in drain_queue(queue, "post_purchase")] == ["post_purchase:5002"]


def test_records_that_are_not_new_outbox_items_publish_nothing():
    message = {"idempotency_key": "k", "shop_id": "s"}
    outbox_insert = {"eventName": "INSERT", "dynamodb": {
        "Keys": {"pk": {"S": "OUTBOX#s#3"}, "sk": {"S": "2026-01-01T00:00:00Z#k"}},
        "NewImage": {"message": {"S": json.dumps(message)}}}}
    assert outbox.messages_from_stream([outbox_insert]) == [
        {**message, "outbox_key": {"pk": "OUTBOX#s#3", "sk": "2026-01-01T00:00:00Z#k"}}]
    assert outbox.messages_from_stream([
        {**outbox_insert, "eventName": "REMOVE"},
        {**outbox_insert, "eventName": "MODIFY"},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "PROFILE#s#c"}, "sk": {"S": "x"}},
                                             "NewImage": {"message": {"S": "{}"}}}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "OUTBOX#s#1"}, "sk": {"S": "x"}},
                                             "NewImage": {"message": {"S": "not json"}}}},  # left to the sweeper
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "OUTBOX#s#1"}, "sk": {"S": "y"}}}},
        {},
    ]) == []


def test_without_the_stream_the_message_is_published_after_the_commit(deps, shopify_shop):
    assert deps.config.outbox_stream is False
    deliver_shopify(deps, shopify_shop.shop_id, shopify_shop.secret,
                    sample_order_payload("shopify", order_id="5003", email=DEFAULT_EMAIL), "orders/paid")
    published = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    customer = published[0]["customer_id"]
    assert [m["idempotency_key"] for m in published] == ["post_purchase:5003", f"tier_upgrade:{customer}:Silver:5003"]
