"""The embedded AWS emulator (moto server), with requests applied one at a time.

moto's DynamoDB does not isolate concurrent requests (a transaction copies and
checks the table while another thread writes it), but DynamoDB does. Serving
one request at a time gives the emulator DynamoDB's serializable behaviour, so
races between *our* clients (read, decide, conditional write) play out as they
would on AWS.

moto also answers every Query by listing and sorting the whole table, so a
query's cost grows with the table, not with the result (DynamoDB reads one
partition). ``_partition_queries`` hands moto's own query code only the items
it could match: the one partition for a table query, the unsorted items for an
index query (moto sorts its matches itself). Results, order and paging are
moto's; only the work is smaller. Likewise, moto's SQS checks each message's
retention by computing every queue attribute (counting all messages) three
times, which makes one ReceiveMessage quadratic in the queue's length;
``_direct_retention_check`` reads the one attribute it needs.
"""
from __future__ import annotations

import threading
from collections import Counter

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


_query_scope = threading.local()


def _partition_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_partition_queries", False):
        return
    all_items, query = Table.all_items, Table.query

    def scoped_all_items(table):
        if getattr(_query_scope, "table", None) is table:
            return _query_scope.items
        return all_items(table)

    # moto's backend passes index_name positionally, as the 8th argument after the table.
    def partition_query(table, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                        scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
        arguments = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                     projection_expressions, index_name, *args)
        if not table.range_key_attr:
            return query(table, *arguments, **kwargs)
        if index_name is None:
            candidates = list(table.items[hash_key].values()) if hash_key in table.items else []
        else:
            candidates = [item for partition in table.items.values() for item in partition.values()]
        _query_scope.table, _query_scope.items = table, candidates
        try:
            return query(table, *arguments, **kwargs)
        finally:
            _query_scope.table = _query_scope.items = None

    Table.all_items, Table.query, Table._partition_queries = scoped_all_items, partition_query, True


def _direct_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(backend, queue_name, message) -> bool:
        retention_seconds = int(backend.get_queue(queue_name).message_retention_period)
        return retention_seconds + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


class _OneAtATime:
    def __init__(self, app, counts: Counter):
        self._app = app
        self._lock = threading.Lock()
        self._counts = counts

    def __call__(self, environ, start_response):
        with self._lock:
            # "DynamoDB_20120810.GetItem" → "dynamodb:GetItem": what crossed the wire, for bench/.
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target.startswith("DynamoDB_"):
                self._counts["dynamodb:" + target.split(".", 1)[1]] += 1
            return list(self._app(environ, start_response))


# Ports of the emulators running inside this process: their state can be read directly
# (devstack.sent_mail) instead of through the emulator's whole-state dump.
IN_PROCESS_PORTS: set[int] = set()


class SerializedMotoServer(ThreadedMotoServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _partition_queries()
        _direct_retention_check()
        self.request_counts: Counter = Counter()
        IN_PROCESS_PORTS.add(int(self._port))

    def _server_entry(self) -> None:
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app), self.request_counts)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
