"""The local emulator, started the same way for every benchmark."""
from __future__ import annotations

import logging
import os
import socket
from chalicelib.composition import dependencies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(*, without_rollback_copy: bool = False, metered: bool = False, port: int | None = None,
                   keep_alive: bool = False):
    """A one-request-at-a-time moto server on a free port, with fake credentials and
    AWS_ENDPOINT_URL set for this process. Returns the server (``request_counts``, ``stop()``;
    with ``metered``, also ``meter``: the DynamoDB read and write units, see bench.capacity).

    ``without_rollback_copy``: moto copies a whole table inside every transaction so it
    can roll back; with large tables that copy dominates. Benchmarks whose transactions
    never need the rollback turn it off (request counts are unaffected).

    ``keep_alive``: HTTP/1.1 with connections kept open (not with ``metered``).
    """
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1",
                       # a local stack: the development link-signing key applies (chalicelib.secrets)
                       "LOYALTY_LOCAL_STACK": "1"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if without_rollback_copy:
        import moto.dynamodb.models as dynamodb_models

        class _NoRollbackCopy:
            @staticmethod
            def deepcopy(value, memo=None):
                return value

        dynamodb_models.copy = _NoRollbackCopy
    from devstack.emulator import SerializedMotoServer

    port = port or free_port()
    if metered:
        server = _metered_server_class()(ip_address="127.0.0.1", port=port, verbose=False)
    else:
        server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False, keep_alive=keep_alive)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    server.endpoint = os.environ["AWS_ENDPOINT_URL"]
    return server


def _metered_server_class():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from bench.capacity import CapacityMeter
    from devstack.emulator import SerializedMotoServer, _OneAtATime

    class MeteredMotoServer(SerializedMotoServer):
        """The serialized emulator with the capacity meter inside its lock."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.meter = CapacityMeter(DomainDispatcherApplication(create_backend_app))

        def _server_entry(self) -> None:
            app = _OneAtATime(self.meter, self.request_counts)
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return MeteredMotoServer



def main() -> None:
    """``python -m bench.emulator PORT``: the emulator alone in its own process (bench.webhook_cpu
    measures the handler's CPU time without the emulator's), the rollback copy off."""
    import sys
    import threading

    start_emulator(without_rollback_copy=True, port=int(sys.argv[1]))
    threading.Event().wait()


if __name__ == "__main__":
    main()


BENCH_SHOP = "bench-shop"
BENCH_SECRET = "bench-secret-0123456789"


def seed_bench_shop(table: str, send_queue: str, events_queue: str, *,
                    sender_email: str = "bench@shop.example") -> str:
    """The webhook benchmarks' Shopify shop (2 % cashback) on a new table and queues, read once
    so it sits in the shop cache as in a warm Lambda container. Returns its webhook secret."""
    import boto3

    from chalicelib.services.shops import shops
    from chalicelib.services.shops.lookup import load_shop
    from devstack.queues import create_queues
    from devstack.tables import create_table

    create_table(boto3.client("dynamodb"), table)
    create_queues(boto3.client("sqs"), send_queue, events_queue)
    shops.put_shop(dependencies(), BENCH_SHOP, {"platform": "shopify", "webhook_secret": BENCH_SECRET, "currency": "UAH",
                                "sender_email": sender_email, "storefront_url": "https://shop.example",
                                "program": {"cashback_percent": "2"}})
    load_shop(dependencies(), BENCH_SHOP)
    return BENCH_SECRET
