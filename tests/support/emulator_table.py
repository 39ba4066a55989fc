"""A new table and queues on the emulator for a test (the ``table`` fixture in tests/conftest.py)
or for a module whose tests only read."""
from __future__ import annotations

import contextlib
import uuid


@contextlib.contextmanager
def emulator_table(moto_endpoint: str, monkeypatch):
    """A new empty table and queues on the emulator, with the service pointed at them (through
    ``monkeypatch``): the ``table`` fixture's, and a module's that shares one among tests that
    only read (tests/integration/test_path_parameters.py)."""
    import boto3

    from chalicelib import composition
    from devstack.queues import create_queues
    from devstack.tables import create_table

    name = f"loyalty-test-{uuid.uuid4().hex[:12]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_endpoint), name)
    create_queues(boto3.client("sqs", endpoint_url=moto_endpoint), f"{name}-send", f"{name}-events",
                  visibility_timeout=1)
    monkeypatch.setenv("LOYALTY_TABLE", name)
    monkeypatch.setenv("LOYALTY_SEND_QUEUE", f"{name}-send")
    monkeypatch.setenv("LOYALTY_EVENTS_QUEUE", f"{name}-events")
    monkeypatch.setenv("LOYALTY_ADMIN_TOKEN", "test-admin-token")
    composition.reset()
    # The emulator's /moto-api/data.json (devstack.sent_mail reads sent e-mails from it) dumps
    # every model instance it ever tracked, and each DynamoDB write adds one: over a whole
    # session's writes it grows slow enough to time out. Each test starts the dump afresh
    # (the tracking only; the emulator's state is untouched).
    from moto.core.model_instances import reset_model_data

    reset_model_data()
    yield name
    composition.reset()
    _forget_tracked_instances()


def _forget_tracked_instances() -> None:
    """moto keeps every DynamoDB item and SQS message it ever made, for its /moto-api/data.json
    dump; over a session (the reliability tests make thousands) that dump grows until reading
    the sent mail from it times out. Tests read only SES from it, so the rest is let go."""
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "sqs"):
        for model in model_data.get(service, {}).values():
            model.instances_tracked.clear()
