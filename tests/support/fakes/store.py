"""The table and queues in this process's memory: the real repositories, no emulator server.

DynamoDB is ``FakeDynamoDBClient`` (tests/support/fakes/dynamodb.py): every PynamoDB connection
and the store's own client calls are answered from a dict while the store is open. SQS and SES
(the send queue, the messenger) are moto's models called straight from botocore (``mock_aws``),
one request at a time like the emulator serves them, with the emulator's patches of moto.
Everything a test made is dropped when it ends; the state of the emulator other tests in this
process use is never reset.
"""
from __future__ import annotations

import contextlib
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Iterator

from tests.support.fakes.dynamodb import FakeDynamoDBClient

_one_at_a_time = threading.RLock()
_serialized = False
_open: list["InMemoryStore"] = []


def open_store() -> "InMemoryStore | None":
    """The in-memory store the running test has open, if any."""
    return _open[-1] if _open else None


def _serialize_in_process_requests() -> None:
    global _serialized
    from moto.core.botocore_stubber import BotocoreStubber

    if _serialized:
        return
    call = BotocoreStubber.__call__

    def one_at_a_time(self, *args, **kwargs):
        with _one_at_a_time:
            return call(self, *args, **kwargs)

    BotocoreStubber.__call__ = one_at_a_time
    _serialized = True


def _sqs_client():
    """One SQS client per process, for the endpoint and region of the test's queues. Built with
    the emulator's URL out of the environment (moto's in-process stub serves only AWS's own endpoints)."""
    global _sqs
    if _sqs is None:
        import boto3

        _sqs = boto3.client("sqs")
    return _sqs


_sqs = None


class _QueuesInMoto:
    """What ``devstack.queues.create_queues`` asks of an SQS client, answered by moto's SQS model
    in this process: the same queues, attributes and dead-letter redrive the API calls make,
    without a botocore request and moto's parsing of it for each of the six calls (with the
    five calls that dropped them, a third of an in-memory test's setup)."""

    def __init__(self):
        from urllib.parse import urlparse

        from moto.iam.models import get_account_id_from
        from moto.sqs.models import sqs_backends

        client = _sqs_client()
        self._endpoint = urlparse(client.meta.endpoint_url)
        self._backend = sqs_backends[get_account_id_from(os.environ["AWS_ACCESS_KEY_ID"])][client.meta.region_name]

    def create_queue(self, QueueName: str, Attributes: dict | None = None) -> dict:  # noqa: N803 (boto3's names)
        return {"QueueUrl": self._backend.create_queue(QueueName, None, **(Attributes or {})).url(self._endpoint)}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict:  # noqa: N803
        # Each named attribute read off moto's queue as its ``attributes`` property reads it: moto's
        # backend built that whole dict (every attribute, the message counts walked) three times
        # for each name asked, 40 % of making a store's queues, for the one ARN create_queues asks.
        from moto.core.utils import camelcase_to_underscores

        queue = self._backend.get_queue(QueueUrl.rsplit("/", 1)[-1])
        return {"Attributes": {name: getattr(queue, camelcase_to_underscores(name)) for name in AttributeNames}}

    def drop(self, prefix: str) -> None:
        """Delete the test's queues, and let go of them: moto also tracks every queue and every
        message it made for its data dump, which kept each test's queues and all their messages
        for the whole session. Nothing reads SQS's part of that dump (sent mail is SES's)."""
        from moto.core.model_instances import model_data

        dropped = self._backend.list_queues(prefix)
        for queue in dropped:
            self._backend.queues.pop(queue.name, None)
        tracked = model_data.get("sqs", {}).get("Queue")
        if tracked is not None and dropped:
            tracked.instances_tracked = [queue for queue in tracked.instances_tracked
                                         if all(queue is not gone for gone in dropped)]
        messages = model_data.get("sqs", {}).get("Message")
        if messages is not None:
            messages.instances_tracked = []


@dataclass(frozen=True)
class InMemoryStore:
    table_name: str
    send_queue_name: str
    events_queue_name: str
    dynamodb: FakeDynamoDBClient

    def environment(self) -> dict[str, str]:
        """The variables that point a ``Config`` (and so the composition root) at this store."""
        return {"LOYALTY_TABLE": self.table_name, "LOYALTY_SEND_QUEUE": self.send_queue_name,
                "LOYALTY_EVENTS_QUEUE": self.events_queue_name}

    def items(self) -> list[dict]:
        """Every item of the table (DynamoDB JSON), as stored now."""
        with self.dynamodb.lock:
            return [dict(item) for item in self.dynamodb.tables[self.table_name].items()]

    def send_queue_messages(self) -> list[dict]:
        """Every message now on the send queue (JSON bodies), taken off it."""
        from tests.support.queues import drain_queue

        return drain_queue(self.send_queue_name)


@contextlib.contextmanager
def in_memory_store(prefix: str = "loyalty-fake") -> Iterator[InMemoryStore]:
    """A new empty table and its queues, in memory, with the PynamoDB models pointed at it."""
    from moto import mock_aws
    from pynamodb.connection.base import Connection

    from chalicelib.store.models import use_table
    from devstack.emulator import patch_moto
    from devstack.queues import create_queues
    from devstack.tables import create_table

    patch_moto()
    _serialize_in_process_requests()
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    dynamodb = FakeDynamoDBClient()
    store = InMemoryStore(name, f"{name}-send", f"{name}-events", dynamodb)
    # botocore hands moto only requests for AWS's own endpoints: an emulator's URL would bypass it.
    saved = {variable: os.environ.pop(variable) for variable in ("AWS_ENDPOINT_URL",) if variable in os.environ}
    real_client, real_session = Connection.__dict__["client"], Connection.__dict__["session"]
    Connection.client = property(lambda connection: dynamodb)  # every model, whatever table it is pointed at
    Connection.session = property(lambda connection: _connections_session())
    mock = _botocore_only(mock_aws())
    mock.start(reset=False)
    queues = None
    try:
        create_table(dynamodb, name)
        queues = _QueuesInMoto()
        create_queues(queues, store.send_queue_name, store.events_queue_name, visibility_timeout=1)
        use_table(name)
        _open.append(store)
        yield store
    finally:
        if store in _open:
            _open.remove(store)
        Connection.client, Connection.session = real_client, real_session
        try:
            if queues is not None:
                queues.drop(name)
        finally:  # a drop that fails must not leave moto's mock on for the worker's next tests
            mock.stop(remove_data=False)
        _forget_request_routes()
        os.environ.update(saved)
        use_table(os.environ.get("LOYALTY_TABLE", name))  # no model keeps the in-memory connection


def _botocore_only(mock):
    """moto's mock as the in-memory store needs it: its credentials, its reset of boto3's default
    session, and its stub of botocore's requests (how SQS and SES reach moto's models here). Not its
    patching of the ``requests`` library: nothing on this path calls AWS through ``requests``, and
    adding moto's 1,288 ``responses`` routes on each start was 14 ms of a test's CPU (and dropping
    them again, ``_forget_request_routes``). The counters of nested mocks stay moto's own; a
    ``mock_aws`` started inside an open store would find the ``requests`` library unpatched."""
    from moto.core.models import botocore_stubber

    def enable_patching(reset: bool = True) -> None:
        botocore_stubber.enabled = True

    def disable_patching(remove_data: bool) -> None:
        botocore_stubber.enabled = False

    mock._enable_patching, mock._disable_patching = enable_patching, disable_patching
    return mock


def _connections_session():
    """The botocore session of every PynamoDB connection while an in-memory store is open. Their
    client is the in-memory one, so the session only takes the composition root's client defaults
    (``set_client_defaults``, the same each time); PynamoDB made a new one for every connection
    ``use_table`` dropped (17 ms of CPU, a twelfth of a service test). One per process, as a warm
    Lambda keeps its connection's session."""
    global _session
    if _session is None:
        from botocore.session import get_session

        _session = get_session()
    return _session


_session = None


def _forget_request_routes() -> None:
    """moto's mock, started without its reset (the emulator's state in this process stays),
    adds its 1,288 routes for the ``requests`` library on every start and never drops them:
    they piled up by that many objects every in-memory test (150 MB after 120 tests), and every
    garbage collection walked them. Once no mock is running they go, as moto's own reset drops
    them; its next start adds them again. The models' data (SQS, SES) stays."""
    from moto.core.custom_responses_mock import reset_responses_mock
    from moto.core.models import MockAWS, responses_mock

    if MockAWS._nested_count == 0:
        reset_responses_mock(responses_mock)
