"""The local emulator, started the same way for every benchmark."""
from __future__ import annotations

import logging
import os

from chalicelib.composition import dependencies
from devstack.ports import free_port


def start_emulator(*, metered: bool = False, port: int | None = None):
    """A one-request-at-a-time moto server on a free port, with fake credentials and
    AWS_ENDPOINT_URL set for this process. Returns the server (``request_counts``, ``stop()``;
    with ``metered``, also ``meter``: the DynamoDB read and write units, see bench.capacity).
    A transaction's rollback backs up only the items it addresses (devstack/emulator.py,
    ``_items_backed_up``), so large tables cost no whole-table copy per transaction.
    """
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1",
                       # a local stack: the development link-signing key applies (chalicelib.secrets)
                       "LOYALTY_LOCAL_STACK": "1"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from devstack.emulator import SerializedMotoServer

    port = port or free_port()
    server = (_metered_server_class() if metered else SerializedMotoServer)(ip_address="127.0.0.1", port=port,
                                                                       verbose=False)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    server.endpoint = os.environ["AWS_ENDPOINT_URL"]
    return server


def _metered_server_class():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from bench.capacity import CapacityMeter
    from devstack.emulator import SerializedMotoServer, _OneAtATime

    class MeteredMotoServer(SerializedMotoServer):
        """The serialized emulator with the capacity meter inside its lock."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.meter = CapacityMeter(DomainDispatcherApplication(create_backend_app))

        def _server_entry(self) -> None:
            self._serve(_OneAtATime(self.meter, self.request_counts))

    return MeteredMotoServer



def main() -> None:
    """``python -m bench.emulator PORT``: the emulator alone in its own process (bench.webhook_cpu
    measures the handler's CPU time without the emulator's)."""
    import sys
    import threading

    start_emulator(port=int(sys.argv[1]))
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
