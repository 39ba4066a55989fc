"""Shared fixtures: one moto server per test process, a fresh table per test."""
from __future__ import annotations

import logging
import os
import socket
import uuid

import pytest

# Fake credentials always: nothing in the tests may reach a real AWS account.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
})


logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's request log drowns test output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    from devstack.emulator import SerializedMotoServer

    port = _free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
    server.stop()


@pytest.fixture
def table(moto_endpoint, monkeypatch):
    """A new empty table for this test, with the service pointed at it."""
    import boto3

    from chalicelib import bootstrap
    from devstack.tables import create_table

    from devstack.queues import create_queues

    name = f"loyalty-test-{uuid.uuid4().hex[:12]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_endpoint), name)
    create_queues(boto3.client("sqs", endpoint_url=moto_endpoint), f"{name}-send", f"{name}-events",
                  visibility_timeout=1)
    monkeypatch.setenv("LOYALTY_TABLE", name)
    monkeypatch.setenv("LOYALTY_SEND_QUEUE", f"{name}-send")
    monkeypatch.setenv("LOYALTY_EVENTS_QUEUE", f"{name}-events")
    monkeypatch.setenv("LOYALTY_ADMIN_TOKEN", "test-admin-token")
    bootstrap.reset()
    yield name
    bootstrap.reset()
