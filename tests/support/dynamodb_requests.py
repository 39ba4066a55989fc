"""The DynamoDB requests a piece of code makes, by operation name, in the order made: what the
send path's request-count tests assert (one read and one claim per e-mail, and so on)."""
from __future__ import annotations


def count_dynamodb_requests(monkeypatch) -> list[str]:
    """Every request PynamoDB sends from now to the test's end (on the emulator or the in-memory
    fake alike) is appended to the returned list by its operation name (``Query``,
    ``TransactWriteItems`` ...); ``clear()`` it to start counting afresh."""
    from pynamodb.connection.base import Connection

    from chalicelib.store import lean_requests

    calls: list[str] = []
    original, lean = Connection._make_api_call, lean_requests.plain_answer

    def counting(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    def counting_lean(client, operation_name, parameters):
        # answered on the store's lean path (store/lean_requests.py); a try that falls back to
        # botocore is counted there, once
        answer = lean(client, operation_name, parameters)
        if answer is not None:
            calls.append(operation_name)
        return answer

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    monkeypatch.setattr(lean_requests, "plain_answer", counting_lean)
    return calls
