"""DynamoDB requests the send path makes per e-mail, sent without botocore's per-request machinery.

A botocore request costs about 1.5 ms of CPU on a kept connection (docs/benchmarks.md): the
parameters walked against the service model to serialise them, a dozen event hooks, the endpoint
rules evaluated again, the request wrapped three times, the answer walked against the model to
parse it. For a request PynamoDB has already built as DynamoDB JSON, all of that turns one dict
into the same JSON and the JSON answer back into the same dict. ``call`` does only what the wire
needs, with botocore's own parts:

- the body: ``json.dumps`` of the parameters as PynamoDB built them (plus the transaction's
  idempotency token, which botocore adds to a TransactWriteItems too);
- the endpoint: the client's, resolved by botocore's endpoint rules once per operation;
- the signature: SigV4 with the client's own (refreshable) credentials, byte for byte what
  ``botocore.auth.SigV4Auth`` signs (a test holds them equal), its signing key derived once a day;
- the connection: one kept-alive HTTP/1.1 connection per thread and endpoint
  (``store/lean_http.py``: the POST in one send, the answer framed as HTTP/1.1 frames it), with
  botocore's CA bundle and the client's timeouts (a urllib3 pool cost 0.2–0.35 ms more CPU a
  request on this path than ``http.client``, and ``http.client`` 0.15 ms more than this);
- the answer: ``json.loads`` when DynamoDB says 200 and the CRC32 it sends matches.

Anything else (a conditional check failed, a cancelled transaction, throttling, a 5xx, a network
error, a CRC mismatch, an answer holding binary values, which botocore would decode) is handed to
the full botocore client with the very same parameters, token included: errors, retries and
exceptions are botocore's, exactly as without this path, and a transaction whose answer was lost
is retried idempotently, as botocore's own retry does. A client that is not botocore's (the
in-memory store of the tests) is always called itself.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import threading
import uuid
import weakref
import zlib
from typing import Optional

from chalicelib.json_text import dumps_compact

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
# what the answer of an operation may hold that botocore decodes and json.loads does not
_BINARY_MARKERS = (b'"B":', b'"BS":')

_kept = threading.local()  # per thread: {(url, timeouts): (lean_http.KeptConnection, path)}
_endpoints: "weakref.WeakKeyDictionary[object, dict[str, Optional[str]]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def call(client, operation: str, parameters: dict, full_client_call=None) -> dict:
    """What ``client._make_api_call(operation, parameters)`` answers, through the lean path when
    DynamoDB answers a plain 200 (the module's docstring), else through ``full_client_call``
    (default: the client's own ``_make_api_call``; PynamoDB's connection passes its own, which
    turns botocore's errors into PynamoDB's) with the same parameters."""
    full_client_call = full_client_call or client._make_api_call
    if not is_lean_capable(client):
        return full_client_call(operation, parameters)
    parameters = with_idempotency_token(operation, parameters)
    answer = plain_answer(client, operation, parameters)
    return answer if answer is not None else full_client_call(operation, parameters)


def is_lean_capable(client) -> bool:
    """A real botocore DynamoDB client with a signer (not the tests' in-memory one)."""
    from botocore.client import BaseClient

    return isinstance(client, BaseClient) and getattr(client, "_request_signer", None) is not None \
        and client.meta.service_model.service_name == "dynamodb"


def with_idempotency_token(operation: str, parameters: dict) -> dict:
    """A TransactWriteItems carries a ClientRequestToken, as botocore fills one in (the
    ``idempotencyToken`` trait): the same one on the lean try and on the full client's, so a
    transaction whose answer was lost is not applied twice."""
    if operation == "TransactWriteItems" and "ClientRequestToken" not in parameters:
        return {**parameters, "ClientRequestToken": str(uuid.uuid4())}
    return parameters


def plain_answer(client, operation: str, parameters: dict) -> Optional[dict]:
    """The answer of a 200 from DynamoDB, or None for anything the full client must handle."""
    try:
        url = _endpoint(client, operation, parameters)
        credentials = client._request_signer._credentials
        if url is None or credentials is None:
            return None
        body = dumps_compact(parameters).encode()
        headers = _signed_headers(client, credentials, url, operation, body)
        status, response_headers, data = _post(client, url, body, headers)
    except Exception:  # a network error, a serialising surprise: the full client sends it again
        return None
    if status != 200 or not _crc32_matches(response_headers.get("x-amz-crc32"), data):
        return None
    if any(marker in data for marker in _BINARY_MARKERS):
        return None
    try:
        answer = json.loads(data) if data else {}
    except ValueError:
        return None
    answer["ResponseMetadata"] = {"RequestId": response_headers.get("x-amzn-requestid", ""), "HTTPStatusCode": 200,
                                  "HTTPHeaders": response_headers, "RetryAttempts": 0}
    return answer


def _post(client, url: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
    """POST on this thread's kept connection to the endpoint: status, headers (lower-case names),
    body. A connection that fails or that the server closes is dropped (the next request opens
    another); the failure is raised for the full client to send the request again."""
    config = client.meta.config
    key = (url, config.connect_timeout, config.read_timeout)
    connections = _kept.__dict__
    kept = connections.pop(key, None)  # (popped: a failure below leaves nothing half-used behind)
    if kept is None:
        kept = _connect(url, config, _verify(client))
    connection, path = kept
    try:
        status, response_headers, data, reusable = connection.post(path, body, headers)
    except BaseException:
        connection.close()
        raise
    if reusable:
        connections[key] = kept
    else:
        connection.close()
    return status, response_headers, data


def _connect(url: str, config, verify):
    """A keep-alive HTTP/1.1 connection (``store/lean_http.py``) to ``url``'s host with the client's
    timeouts (connect, then read) and, over TLS, the client's CA bundle (botocore's default one
    unless it was given another); and the path to post to. Its Host header is the one signed."""
    import ssl
    from urllib.parse import urlsplit

    from botocore.httpsession import get_cert_path

    from chalicelib.store.lean_http import KeptConnection

    parts = urlsplit(url)
    tls = parts.scheme == "https"
    context = ssl.create_default_context(cafile=get_cert_path(verify)) if tls else None
    host_header, path = _host_and_path(url)
    connection = KeptConnection(parts.hostname, parts.port or (443 if tls else 80), host_header=host_header,
                                connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
                                tls_context=context)
    return connection, path


def _crc32_matches(expected: Optional[str], data: bytes) -> bool:
    """DynamoDB's checksum of the answer's body (botocore retries on a mismatch; so do we, by
    handing the request to it)."""
    return expected is None or (expected.isdigit() and int(expected) == zlib.crc32(data) & 0xFFFFFFFF)


def _endpoint(client, operation: str, parameters: dict) -> Optional[str]:
    """The URL botocore's endpoint rules give this client for ``operation`` (a plain table name's
    requests all go to the same one), worked out on the first request."""
    known = _endpoints.get(client)
    if known is None:
        with _lock:
            known = _endpoints.setdefault(client, {})
    if operation not in known:
        try:
            operation_model = client.meta.service_model.operation_model(operation)
            context: dict = {}
            url, extra_headers = client._resolve_endpoint_ruleset(operation_model, parameters, context)[:2]
            signing = context.get("signing", {})
            # The full client for what this path does not do: headers the rules ask for, signing
            # in another region or name than the client's, a proxy (botocore honours the
            # environment's and the config's), a TLS check turned off.
            plain = (not extra_headers and signing.get("region", client.meta.region_name) == client.meta.region_name
                     and signing.get("signing_name", client.meta.service_model.signing_name)
                     == client.meta.service_model.signing_name
                     and not client.meta.config.proxies and not _proxied(url) and _verify(client) is not False)
            known[operation] = url if plain else None
        except Exception:
            known[operation] = None
    return known[operation]


def _proxied(url: str) -> bool:
    import urllib.request

    host = url.split("/", 3)[2].split(":")[0]
    proxies = urllib.request.getproxies()
    return bool(proxies.get(url.split(":", 1)[0]) or proxies.get("all")) and not urllib.request.proxy_bypass(host)


def _verify(client):
    """The client's TLS verification: True, a CA bundle's path, or False (``verify=False``)."""
    return getattr(getattr(getattr(client, "_endpoint", None), "http_session", None), "_verify", True)


def _signed_headers(client, credentials, url: str, operation: str, body: bytes) -> dict:
    """The request's headers with its SigV4 signature, as ``botocore.auth.SigV4Auth`` signs them
    (tests/unit/test_lean_requests.py holds the two to the same Authorization header), for this
    path's one kind of request: a POST of JSON to the endpoint's path, no query string. The signing
    key is derived once a day (SigV4Auth derives it, four HMACs, on every request, and builds the
    canonical request through URL parsing and quoting): 0.03 instead of 0.14 ms of CPU a request."""
    from botocore.compat import get_current_datetime

    frozen = credentials.get_frozen_credentials()
    timestamp = get_current_datetime().strftime("%Y%m%dT%H%M%SZ")
    host, path = _host_and_path(url)
    signed = {"content-type": _CONTENT_TYPE, "host": host, "x-amz-date": timestamp,
              "x-amz-target": _TARGET_PREFIX + operation}
    if frozen.token:
        signed["x-amz-security-token"] = frozen.token
    names = ";".join(sorted(signed))
    canonical = "\n".join(("POST", path, "", "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)), names,
                           hashlib.sha256(body).hexdigest()))
    region, service = client.meta.region_name, client.meta.service_model.signing_name
    scope = f"{timestamp[:8]}/{region}/{service}/aws4_request"
    string_to_sign = f"AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(_signing_key(frozen.secret_key, timestamp[:8], region, service), string_to_sign.encode(),
                         hashlib.sha256).hexdigest()
    headers = {"Content-Type": _CONTENT_TYPE, "X-Amz-Target": signed["x-amz-target"], "X-Amz-Date": timestamp,
               "Accept-Encoding": "identity",
               "Authorization": f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, SignedHeaders={names}, "
                                f"Signature={signature}"}
    if frozen.token:
        headers["X-Amz-Security-Token"] = frozen.token
    if client.meta.config.user_agent:
        headers["User-Agent"] = client.meta.config.user_agent
    return headers


@functools.lru_cache(maxsize=8)
def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@functools.lru_cache(maxsize=16)
def _host_and_path(url: str) -> tuple[str, str]:
    """The Host header (the port only when it is not the scheme's default, as botocore signs it)
    and the path of an endpoint URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname if parts.port in (None, default) else f"{parts.hostname}:{parts.port}"
    return host, parts.path or "/"
