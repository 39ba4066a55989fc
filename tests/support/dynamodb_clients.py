"""PynamoDB's botocore clients shared across the tests of a process, as a warm Lambda shares them.

Every test points the models at its own table (``use_table`` drops their connections), and each
model's new connection then built its own botocore client from a new botocore session: the
DynamoDB service model parsed again, about 0.1 s of CPU a client, some ten clients a test. In a
warm Lambda container the connections, and so their clients, live across invocations; here one
client is kept per configuration (endpoint, region, credentials, timeouts, retries, headers) and
handed to every new connection with that configuration. A client holds no table name and no test
state, so nothing a test sees changes; a changed endpoint or credentials still gets a new client.
"""
from __future__ import annotations

import os
import threading

_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION")
_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def _configuration(connection) -> tuple:
    return (connection.host, connection.region, connection._connect_timeout_seconds,
            connection._read_timeout_seconds, repr(connection._retry_configuration),
            connection._max_retry_attempts_exception, connection._max_pool_connections,
            repr(connection._extra_headers), connection._aws_access_key_id, connection._aws_secret_access_key,
            connection._aws_session_token, *(os.environ.get(variable) for variable in _ENVIRONMENT))


def _has_credentials(client) -> bool:
    return not client._request_signer or bool(client._request_signer._credentials)


def share_pynamodb_clients() -> None:
    """Make every PynamoDB connection of this process reuse the client of its configuration."""
    from pynamodb.connection.base import Connection

    own_client = Connection.__dict__["client"]
    if getattr(own_client.fget, "shares_clients", False):
        return

    def client(connection):
        if connection._client is None:
            key = _configuration(connection)
            with _lock:
                shared = _clients.get(key)
                if shared is not None and _has_credentials(shared):
                    connection._client = shared
                else:
                    _clients[key] = own_client.fget(connection)
        return own_client.fget(connection)

    client.shares_clients = True
    Connection.client = property(client)
