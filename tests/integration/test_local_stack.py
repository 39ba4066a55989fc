"""`python -m devstack.run --exit-after-demo`: the whole local stack starts, runs
its demo over HTTP and stops both of its processes again."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.chalice_local import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 90


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_local_stack_runs_the_demo_and_stops_cleanly():
    api_port, emulator_port = free_port(), free_port()
    while emulator_port == api_port:
        emulator_port = free_port()
    env = {**os.environ, "PORT": str(api_port), "EMULATOR_PORT": str(emulator_port), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "devstack.run", "--exit-after-demo"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # devstack stops its chalice process group itself
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        raise AssertionError(f"devstack.run did not finish within {TIMEOUT_SECONDS} s:\n{output}")

    assert process.returncode == 0, output
    lines = output.splitlines()
    assert "Ready." in lines, output
    webhook_lines = [line for line in lines if "→ 200 " in line]
    assert any("→ 200 applied order 1001" in line for line in webhook_lines), output
    assert any("→ 200 duplicate order 1001" in line for line in webhook_lines), output
    assert any("refund 5001" in line for line in webhook_lines), output
    # One order goes through the webhooks' function URL (devstack/function_url.py), as Lambda serves it.
    assert any("function URL" in line and "→ 200 applied order 1002" in line for line in webhook_lines), output
    assert f"http://127.0.0.1:{api_port}" in output and f"http://127.0.0.1:{emulator_port}" in output
    assert "points_balance: " in output and "order:1001" in output  # the customer view and history
    assert "Traceback" not in output
    assert not _listening(api_port), "chalice local still listens after devstack.run exited"
    assert not _listening(emulator_port), "the emulator still listens after devstack.run exited"
