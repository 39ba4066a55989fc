"""The DynamoDB requests a piece of code makes, by operation name, in the order made: what the
send path's request-count tests assert (one read and one claim per e-mail, and so on)."""
from __future__ import annotations


def count_dynamodb_requests(monkeypatch) -> list[str]:
    """Every request PynamoDB sends from now to the test's end (on the emulator or the in-memory
    fake alike) is appended to the returned list by its operation name (``Query``,
    ``TransactWriteItems`` ...); ``clear()`` it to start counting afresh."""
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    original = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    return calls
