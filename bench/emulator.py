"""The local emulator, started the same way for every benchmark."""
from __future__ import annotations

import logging
import os
import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(*, without_rollback_copy: bool = False):
    """A one-request-at-a-time moto server on a free port, with fake credentials and
    AWS_ENDPOINT_URL set for this process. Returns the server (``request_counts``, ``stop()``).

    ``without_rollback_copy``: moto copies a whole table inside every transaction so it
    can roll back; with large tables that copy dominates. Benchmarks whose transactions
    never need the rollback turn it off (request counts are unaffected).
    """
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if without_rollback_copy:
        import moto.dynamodb.models as dynamodb_models

        class _NoRollbackCopy:
            @staticmethod
            def deepcopy(value, memo=None):
                return value

        dynamodb_models.copy = _NoRollbackCopy
    from devstack.emulator import SerializedMotoServer

    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    server.endpoint = os.environ["AWS_ENDPOINT_URL"]
    return server
