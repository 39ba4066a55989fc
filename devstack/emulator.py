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
``_direct_retention_check`` reads the one attribute it needs. SendMessage reads the queue's
attributes for one flag, and that computes the three message counts, each a walk of the whole
queue: ``_sqs_counts_only_when_asked`` leaves them out there, so queueing 10,000 e-mails is not
quadratic; ``Queue.messages`` reads the clock once per call instead of twice per message, and a
DeleteMessage stops at the message it deletes instead of walking the queue twice.

Per request, moto lists its own package directory (``list_of_moto_modules``, to match a host)
and inspects the response class's methods (``method_names_from_class``): both answers never
change in a running process, so ``_cached_dispatch`` computes them once. moto's JSON serializer
walks each item's attribute values member by member through the service model (ten members per
value, each looked up under several spellings): an item that is already DynamoDB JSON, as moto's
DynamoDB hands them over, is written as it is (``_plain_attribute_values``). None of these changes
what any request answers; they only take work out of the emulator, which is what a benchmark
on the local stack (bench/) would otherwise measure.

moto backs every TransactWriteItems up by deep-copying each table it names, once per item it
writes, so a transaction cost time in proportion to the table; ``_items_backed_up`` backs up the
items the transaction addresses instead (and the stream's length) and puts them back when it is
cancelled: the same all-or-nothing, in time that does not grow with the table.

moto's SES v2 keeps a domain identity that it never verifies (``VerifiedForSendingStatus``
stays false, no DKIM tokens, no custom MAIL FROM), yet sends from it. ``_ses_domain_identities``
makes it behave like SES after the shop published its DNS records, at once: Easy DKIM
tokens, DKIM ``SUCCESS``, verified for sending, and ``PutEmailIdentityMailFromAttributes``
with the MAIL FROM read back. A test that needs a domain still waiting for its DNS says so
with ``hold_verification(domain)`` (SES then answers pending and refuses to send from it,
as SES does) and ends the wait with ``publish_dns(domain)``.
"""
from __future__ import annotations

import contextlib
import copy
import io
import os
import socket
import threading
from collections import Counter

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import DechunkedInput, make_server


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


_transaction_scope = threading.local()


class _TablesCopiedAsThemselves:
    """moto's DynamoDB module's ``copy``: while ``_items_backed_up`` runs a transaction, the
    whole-table copy moto takes as its backup is the table itself (the transaction's own items
    were backed up instead); any other deep copy is a real one."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        from moto.dynamodb.models.table import Table

        if getattr(_transaction_scope, "items_backed_up", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


class _TransactionBackup:
    """The items a transaction addresses (or their absence) and each table's stream length,
    as they were before it: put back if it is cancelled."""

    def __init__(self, backend, transact_items: list):
        from moto.dynamodb.models.dynamo_type import DynamoType

        self._saved = []
        self._streams = {}
        for entry in transact_items:
            ((operation, request),) = entry.items()
            table = backend.tables[request["TableName"]]
            key = request["Item"] if operation == "Put" else request["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            partition_existed = hash_value in table.items
            item = table.get_item(hash_value, range_value)
            self._saved.append((table, hash_value, range_value, partition_existed, copy.deepcopy(item)))
            if table.stream_shard is not None:
                self._streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_value, range_value, partition_existed, item in reversed(self._saved):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
                continue
            partition = table.items.get(hash_value)
            if item is not None:
                if partition is None:
                    partition = table.items[hash_value] = {}
                partition[range_value] = item
            elif partition is not None:
                partition.pop(range_value, None)
                if not partition and not partition_existed:
                    del table.items[hash_value]
        for shard, length in self._streams.values():
            del shard.items[length:]


def _items_backed_up() -> None:
    """moto backs a TransactWriteItems up by deep-copying every table it names, once per item it
    writes: a transaction's cost grows with the table (a 5-item write on a table of a few thousand
    items took 150 ms of the emulator's time). Here the backup is the addressed items themselves
    (and the stream's length), put back when the transaction fails in any way, which is the
    all-or-nothing DynamoDB promises; what a transaction writes, checks and answers is moto's."""
    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend, "_items_backed_up", False):
        return
    transact_write_items = models.DynamoDBBackend.transact_write_items

    def backed_up_transaction(backend, transact_items):
        try:
            backup = _TransactionBackup(backend, transact_items)
        except Exception:  # a request moto refuses (no such table, a key missing): moto's own way
            return transact_write_items(backend, transact_items)
        _transaction_scope.items_backed_up = True
        try:
            return transact_write_items(backend, transact_items)
        except BaseException:
            backup.restore()
            raise
        finally:
            _transaction_scope.items_backed_up = False

    models.copy = _TablesCopiedAsThemselves()
    models.DynamoDBBackend.transact_write_items = backed_up_transaction
    models.DynamoDBBackend._items_backed_up = True


def _direct_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(backend, queue_name, message) -> bool:
        retention_seconds = int(backend.get_queue(queue_name).message_retention_period)
        return retention_seconds + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


_sqs_scope = threading.local()


def _sqs_counts_only_when_asked() -> None:
    from moto.sqs import models as sqs_models

    Queue, SQSBackend = sqs_models.Queue, sqs_models.SQSBackend
    if getattr(Queue, "_counts_only_when_asked", False):
        return
    counts = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
              "ApproximateNumberOfMessagesNotVisible"}
    all_attributes, send_message = Queue.attributes.fget, SQSBackend.send_message

    class WithoutCounts:
        """The queue as moto's attribute code sees it while sending: the same queue without the
        three counts. A view, not a change to the queue, so a reader in another thread (the
        in-memory store serves requests from several) still gets every attribute."""

        BASE_ATTRIBUTES = [name for name in Queue.BASE_ATTRIBUTES if name not in counts]

        def __init__(self, queue):
            self._queue = queue

        def __getattr__(self, name):
            return getattr(self._queue, name)

    def attributes(queue):
        if not getattr(_sqs_scope, "sending", False):
            return all_attributes(queue)
        return all_attributes(WithoutCounts(queue))

    def send_without_counts(backend, *args, **kwargs):
        _sqs_scope.sending = True
        try:
            return send_message(backend, *args, **kwargs)
        finally:
            _sqs_scope.sending = False

    def messages(queue):
        # moto's Message.visible and .delayed each read the clock; one reading serves the whole walk
        now = sqs_models.unix_time_millis()
        return [message for message in queue._messages if now > message.visible_at and not now < message.delayed_until]

    def delete_message(queue, receipt_handle: str) -> None:
        # moto walks the whole queue twice per delete; a received message sits near the front
        if receipt_handle in queue.deleted_messages:
            return  # already deleted: as moto, quietly
        for index, message in enumerate(queue._messages):
            if message.had_receipt_handle(receipt_handle):
                break
        else:
            raise sqs_models.ReceiptHandleIsInvalid()
        queue._messages = queue._messages[:index] + queue._messages[index + 1:]
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(message.all_receipt_handles)

    Queue.attributes, Queue.messages = property(attributes), property(messages)
    Queue.delete_message = delete_message
    SQSBackend.send_message = send_without_counts
    Queue._counts_only_when_asked = True


def _cached_dispatch() -> None:
    import functools

    import moto.backends
    import moto.core.responses

    if getattr(moto.backends, "_cached_dispatch", False):
        return
    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        moto.core.responses.method_names_from_class)
    moto.backends._cached_dispatch = True


def _plain_json(value) -> bool:
    if isinstance(value, (str, bool)):
        return True
    if type(value) is dict:
        return all(type(key) is str and _plain_json(inner) for key, inner in value.items())
    if type(value) is list:
        return all(_plain_json(inner) for inner in value)
    return False


def _plain_attribute_values() -> None:
    from moto.core.serialize import BaseJSONSerializer

    if getattr(BaseJSONSerializer, "_plain_attribute_values", False):
        return
    structure = BaseJSONSerializer._serialize_type_structure

    def serialize_structure(serializer, serialized, value, shape, key):
        # Only a dict of DynamoDB JSON (strings, booleans, lists and maps of them; no bytes, which
        # the serializer would encode) is taken as it is; anything else goes the serializer's way.
        if (key and shape.name == "AttributeValue" and type(value) is dict and value.keys() <= shape.members.keys()
                and _plain_json(value)):
            serialized[serializer.get_serialized_name(shape, key)] = value
            return
        structure(serializer, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure
    BaseJSONSerializer._plain_attribute_values = True


# Domains whose DNS records are "not yet published": their identities stay pending.
_UNPUBLISHED: set[str] = set()


def hold_verification(domain: str) -> None:
    """The emulator's identity for ``domain`` (now or when created) waits for its DNS records."""
    _UNPUBLISHED.add(domain.lower())


def publish_dns(domain: str) -> None:
    """The shop published the records: SES verifies the identity."""
    _UNPUBLISHED.discard(domain.lower())


def publish_all_dns() -> None:
    _UNPUBLISHED.clear()


def _ses_domain_identities() -> None:
    import hashlib
    import json
    from email.utils import parseaddr
    from urllib.parse import unquote

    from moto.ses.models import EmailIdentity, SESBackend
    from moto.sesv2.responses import SESV2Response

    if getattr(EmailIdentity, "_verifies_at_once", False):
        return

    def waiting(identity) -> bool:
        return identity.identity_type == "DOMAIN" and identity.email_identity.lower() in _UNPUBLISHED

    def tokens(name: str) -> list[str]:
        # Stable per domain, shaped like SES's (32 lower-case base32 characters).
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        out = []
        for n in range(3):
            digest = hashlib.sha256(f"{name}#{n}".encode()).digest()
            out.append("".join(alphabet[b % 32] for b in digest[:32]))
        return out

    def response_object(identity) -> dict:
        answer = dict(original_response.fget(identity))
        if identity.identity_type == "DOMAIN":
            pending = waiting(identity)
            answer["VerifiedForSendingStatus"] = not pending
            answer["VerificationStatus"] = "PENDING" if pending else "SUCCESS"
            answer["DkimAttributes"] = {**identity.dkim_attributes, "SigningEnabled": True,
                                        "Status": "PENDING" if pending else "SUCCESS",
                                        "Tokens": tokens(identity.email_identity),
                                        "SigningAttributesOrigin": "AWS_SES"}
        return answer

    original_response = EmailIdentity.get_response_object
    EmailIdentity.get_response_object = property(response_object)

    original_verified = SESBackend._is_verified_address

    def is_verified_address(backend, source: str) -> bool:
        _, address = parseaddr(source)
        host = address.split("@", 1)[-1].lower()
        if host in _UNPUBLISHED and address not in backend.email_identities:
            return False  # SES refuses mail from an identity it has not verified
        return original_verified(backend, source)

    SESBackend._is_verified_address = is_verified_address

    def identity_name(response) -> str:
        return unquote(response.path.split("/identities/", 1)[1].split("/", 1)[0])

    def create_email_identity(response) -> str:
        response.body  # noqa: B018 (moto parses the body lazily)
        original_create(response)
        identity = response.sesv2_backend.get_email_identity(response._get_param("EmailIdentity"))
        return json.dumps({key: value for key, value in identity.get_response_object.items()
                           if key in ("IdentityType", "VerifiedForSendingStatus", "DkimAttributes")})

    def get_email_identity(response) -> str:
        name = identity_name(response)
        identity = response.sesv2_backend.get_email_identity(email_identity=name)
        answer = identity.get_response_object
        mail_from = response.sesv2_backend.core_backend.identity_mail_from_domains.get(name)
        if mail_from:
            answer["MailFromAttributes"] = {
                "MailFromDomain": mail_from["mail_from_domain"],
                "MailFromDomainStatus": "PENDING" if waiting(identity) else "SUCCESS",
                "BehaviorOnMxFailure": mail_from["behavior_on_mx_failure"] or "USE_DEFAULT_VALUE"}
        return json.dumps(answer)

    def put_email_identity_mail_from_attributes(response) -> str:
        name = identity_name(response)
        response.sesv2_backend.get_email_identity(email_identity=name)  # NotFoundException when missing
        params = json.loads(response.body or "{}")
        response.sesv2_backend.core_backend.identity_mail_from_domains[name] = {
            "mail_from_domain": params.get("MailFromDomain"),
            "behavior_on_mx_failure": params.get("BehaviorOnMxFailure")}
        return json.dumps({})

    from moto.sesv2 import urls

    urls.url_paths.setdefault("{0}/v2/email/identities/(?P<EmailIdentity>[^/]+)/mail-from$", SESV2Response.dispatch)
    original_create = SESV2Response.create_email_identity
    SESV2Response.create_email_identity = create_email_identity
    SESV2Response.get_email_identity = get_email_identity
    SESV2Response.put_email_identity_mail_from_attributes = put_email_identity_mail_from_attributes
    EmailIdentity._verifies_at_once = True


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


def patch_moto() -> None:
    """What the emulator changes in moto (above), applied once per process; in-process uses of
    moto's models (tests/support/fakes) need the same."""
    _partition_queries()
    _items_backed_up()
    _direct_retention_check()
    _sqs_counts_only_when_asked()
    _cached_dispatch()
    _plain_attribute_values()
    _ses_domain_identities()
    _names_converted_once()


def _names_converted_once() -> None:
    """moto turns attribute and action names from CamelCase to snake_case a character at a time,
    about 13 times for each queue made and again for each request and attribute read (60,000
    calls and 2 % of tests/services' CPU); a name's answer never changes, so each is made once."""
    import functools

    import moto.core.responses
    import moto.core.utils
    import moto.sqs.models

    if hasattr(moto.core.utils.camelcase_to_underscores, "cache_info"):
        return
    converted = functools.lru_cache(maxsize=4096)(moto.core.utils.camelcase_to_underscores)
    for module in (moto.core.utils, moto.core.responses, moto.sqs.models):
        module.camelcase_to_underscores = converted


class _NothingLeft:
    """Stands in for the socket while werkzeug drains "what the client sent after the body": a
    pipe at end of file, readable at once, so that drain neither waits its 10 ms nor reads the
    client's next request (the body was read whole before the application ran)."""

    _read_end: int | None = None

    def fileno(self) -> int:
        if _NothingLeft._read_end is None:
            read_end, write_end = os.pipe()
            os.close(write_end)
            _NothingLeft._read_end = read_end
        return _NothingLeft._read_end


class KeepAliveRequestHandler(MotoRequestHandler):
    """HTTP/1.1 keep-alive, as DynamoDB, SQS and SES keep their connections: werkzeug's dev server
    closes every connection after one answer (it cannot tell where a request's body ends), so a
    client paid a new TCP connection per request, which AWS does not charge a warm Lambda and
    which made bench.send_path's CPU per e-mail dishonest. Here each request's body is read whole
    (Content-Length, or chunks to their end) before moto sees it, so the next request starts where
    the stream is; the connection stays open until the client closes it, sends ``Connection:
    close``, or is idle for ``timeout`` seconds. Errors outside the application (a malformed
    request) still close it (http.server's ``send_error``)."""

    protocol_version = "HTTP/1.1"
    # werkzeug writes the status line, headers and body apart: with Nagle's algorithm on a kept
    # connection each answer would wait for the client's delayed ACK (40 ms)
    disable_nagle_algorithm = True
    timeout = 60  # an idle connection's thread ends; urllib3 opens a new one when it finds it closed

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            if self.server.stopping:  # accepted just before the stop: close it as the stop closed the others
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self.server.live_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.live_connections.discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        socket_input, connection = self.rfile, self.connection
        self._socket_input, self._in_application = socket_input, True
        self.rfile, self.connection = io.BytesIO(), _NothingLeft()
        try:
            super().run_wsgi()
        finally:
            self.rfile, self.connection, self._in_application = socket_input, connection, False

    def make_environ(self) -> dict:
        environ = super().make_environ()
        if environ.get("wsgi.input_terminated"):  # Transfer-Encoding: chunked
            body = DechunkedInput(self._socket_input).read()
        else:
            body = self._socket_input.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        return environ

    def log_error(self, format: str, *args) -> None:
        if format.startswith("Request timed out"):
            return  # an idle kept connection ending (``timeout``) is how keep-alive works, not an error
        super().log_error(format, *args)

    def send_header(self, keyword: str, value: str) -> None:
        if getattr(self, "_in_application", False) and keyword.lower() == "connection" and value.lower() == "close":
            return  # werkzeug's "always close"; http.server keeps the connection unless the client said close
        super().send_header(keyword, value)


def serve(app, ip_address: str, port: int):
    """A threaded werkzeug server for ``app`` that keeps connections alive (``stop_server`` closes them)."""
    server = make_server(ip_address, port, app, True, request_handler=KeepAliveRequestHandler)
    server.live_connections, server.connections_lock, server.stopping = set(), threading.Lock(), False
    return server


def stop_server(server) -> None:
    """Stop serving and close the connections still open: a client's pooled connection must not
    keep talking to a stopped emulator (a new one may take the same port)."""
    server.shutdown()
    with server.connections_lock:
        server.stopping = True
        open_connections = list(server.live_connections)
    for connection in open_connections:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    server.server_close()


class SerializedMotoServer(ThreadedMotoServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        patch_moto()
        self.request_counts: Counter = Counter()
        IN_PROCESS_PORTS.add(int(self._port))

    def _server_entry(self) -> None:
        self._serve(_OneAtATime(DomainDispatcherApplication(create_backend_app), self.request_counts))

    def _serve(self, app) -> None:
        self._server = serve(app, self._ip_address, self._port)
        self._server_ready_event.set()
        self._server.serve_forever()

    def stop(self) -> None:
        self._server_ready_event.clear()
        if self._server:
            stop_server(self._server)
        self._thread.join()
