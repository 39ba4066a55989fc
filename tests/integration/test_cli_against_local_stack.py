"""`python -m devstack.cli send-sample` as an operator runs it: its own process, against the
local stack `make run` starts (`python -m devstack.run`, emulator and `chalice local`). The
in-process CLI tests (test_cli.py) cannot see what only a fresh process meets: the store
pointed at the stack's table before the first read, the stack's ports from the environment."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 240  # the stack runs its demo first; a shared CI machine is slow
SHOP = "demo-shop"  # the shop devstack.run registers for its demo


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def local_stack():
    """``python -m devstack.run`` until it says Ready; its environment (the ports) for the CLI."""
    api_port, emulator_port = _free_ports(2)
    env = {**os.environ, "PORT": str(api_port), "EMULATOR_PORT": str(emulator_port), "PYTHONUNBUFFERED": "1"}
    for variable in ("AWS_ENDPOINT_URL", "LOYALTY_TABLE", "LOYALTY_SEND_QUEUE", "LOYALTY_EVENTS_QUEUE"):
        env.pop(variable, None)  # what the CLI uses must come from the stack's ports alone
    process = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def read_output():  # a thread: the pipe must keep draining while the tests run
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.strip() == "Ready.":
                ready.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.wait(0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("devstack.run did not get ready:\n" + "\n".join(output))
        yield env
    finally:
        process.send_signal(signal.SIGTERM)  # devstack stops its chalice process group itself
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    assert not _listening(api_port) and not _listening(emulator_port), "the local stack still listens"


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "devstack.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_send_sample_reaches_the_local_stack_and_a_retry_counts_once(local_stack):
    first = _cli(local_stack, "send-sample", "shopify", SHOP, "--order-id", "7001", "--email", "taras@example.com",
                 "--repeat", "2", "--json")
    assert first.returncode == 0, first.stderr
    sent = json.loads(first.stdout)
    assert sent["url"].endswith(f"/webhooks/shopify/{SHOP}") and sent["topic"] == "orders/paid"
    assert [response["status"] for response in sent["responses"]] == [200, 200]
    assert [response["body"]["result"] for response in sent["responses"]] == ["applied", "duplicate"]

    customer = _cli(local_stack, "customer", SHOP, "taras@example.com", "--json")
    assert customer.returncode == 0, customer.stderr
    assert json.loads(customer.stdout)["points_balance"] > 0

    unknown = _cli(local_stack, "send-sample", "shopify", "no-such-shop")
    assert unknown.returncode == 1 and "no shop 'no-such-shop'" in unknown.stderr, unknown.stderr
    assert "Traceback" not in unknown.stderr
