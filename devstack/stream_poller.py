"""Runs the app's DynamoDB Stream handler locally, as Lambda's event source mapping does on AWS:
`chalice local` serves only HTTP, and the emulator (moto) keeps the table's stream but calls no one.

Reads every shard of the table's stream from its start, keeps only what the deployed mapping's
filter lets through (inserts of outbox items, infra/stack.py OUTBOX_STREAM_FILTER), and hands each
batch to the same Chalice handler Lambda would run (chalice.test's Lambda client, so the event has
the real shape). A batch whose handler fails is offered again on the next pass, as Lambda retries.
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

logger = logging.getLogger("loyalty.devstack.stream")


def enable_stream(dynamodb_client, table_name: str) -> str:
    """Turns the table's NEW_IMAGE stream on (the deployed table has it, infra/stack.py) and
    returns its ARN."""
    table = dynamodb_client.describe_table(TableName=table_name)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        table = dynamodb_client.update_table(TableName=table_name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
    return table["LatestStreamArn"]


def wanted(record: dict) -> bool:
    """The deployed event source mapping's filter (infra/stack.py OUTBOX_STREAM_FILTER)."""
    pk = record.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", "")
    return record.get("eventName") == "INSERT" and pk.startswith("OUTBOX#")


def as_lambda_delivers(record: dict, stream_arn: str) -> dict:
    """A GetRecords record in the shape Lambda hands it over: epoch seconds where boto3 parsed a
    datetime, and the stream's ARN."""
    change = dict(record.get("dynamodb", {}))
    created = change.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


class StreamPoller:
    def __init__(self, table_name: str, handler: str = "publish_outbox"):
        self._table = table_name
        self._handler = handler
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._iterators: dict[str, Optional[str]] = {}
        self.published = 0
        self.failed = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        import boto3
        from chalice.test import Client

        from app import app

        streams = boto3.client("dynamodbstreams")
        stream_arn = enable_stream(boto3.client("dynamodb"), self._table)
        with Client(app, stage_name="local") as client:
            while not self._stop.is_set():
                busy = self.poll_once(client, streams, stream_arn)
                if not busy:
                    self._stop.wait(0.2)

    def poll_once(self, client, streams, stream_arn: str) -> bool:
        """One pass over the shards; True if it handed records to the handler."""
        busy = False
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            answer = streams.get_records(ShardIterator=iterator, Limit=100)
            records = [record for record in answer.get("Records", []) if wanted(record)]
            if records:
                busy = True
                try:
                    client.lambda_.invoke(self._handler, {"Records": [as_lambda_delivers(record, stream_arn)
                                                                      for record in records]})
                except Exception:  # like Lambda: the same batch again on the next pass
                    self.failed += 1
                    logger.exception("stream handler %s failed; the batch is retried", self._handler)
                    continue
                self.published += len(records)
            self._iterators[shard_id] = answer.get("NextShardIterator")
        return busy
