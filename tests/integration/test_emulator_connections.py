"""The emulator keeps a client's connection alive, as DynamoDB does (bench.send_path measures what
a warm Lambda pays, not a TCP connection per request), and a stopped emulator leaves no connection
behind that a client could go on talking to."""
from __future__ import annotations

import http.client
import json
import logging
import socket
import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from devstack.emulator import SerializedMotoServer
from devstack.tables import create_table
from tests.support.chalice_local import free_port


@pytest.fixture
def own_emulator():
    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield server, f"http://127.0.0.1:{port}"
    server.stop()


def _dynamodb(endpoint: str):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-central-1", aws_access_key_id="k",
                        aws_secret_access_key="s", config=Config(retries={"mode": "standard", "max_attempts": 1}))


def test_one_connection_carries_every_request_of_a_client(own_emulator):
    server, endpoint = own_emulator
    accepted = []
    original = server._server.get_request

    def counting():
        request = original()
        accepted.append(request[1])
        return request

    server._server.get_request = counting
    dynamodb = _dynamodb(endpoint)
    create_table(dynamodb, "keep-alive")
    for n in range(20):
        dynamodb.put_item(TableName="keep-alive", Item={"pk": {"S": f"c{n}"}, "sk": {"S": "x"}, "v": {"S": "é" * n}})
    items = dynamodb.scan(TableName="keep-alive")["Items"]

    assert len(items) == 20
    assert len(accepted) == 1


def test_requests_follow_each_other_on_one_connection_with_bodies_of_any_length():
    # raw HTTP/1.1: the second request comes right after the first answer, as urllib3 sends it; the
    # emulator must neither wait for it nor swallow it while finishing the first
    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables",
                   "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/eu-central-1/dynamodb/aws4_request, "
                                    "SignedHeaders=host, Signature=0"}
        answers = []
        for body in ("{}", json.dumps({"Limit": 10}), json.dumps({"ExclusiveStartTableName": "x" * 200})):
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read())))
            assert response.getheader("Connection") != "close"
        assert [status for status, _ in answers] == [200, 200, 200]
        assert all("TableNames" in answer for _, answer in answers)
        connection.close()
    finally:
        server.stop()


def test_a_stopped_emulator_closes_the_connections_it_kept(own_emulator):
    server, endpoint = own_emulator
    dynamodb = _dynamodb(endpoint)
    create_table(dynamodb, "stopping")
    # Asked by name: the emulator's backend is per process, so a worker that ran many tests before
    # lists more than one page of tables (100), and a first page need not hold this one.
    assert dynamodb.describe_table(TableName="stopping")["Table"]["TableName"] == "stopping"

    server.stop()

    with pytest.raises(EndpointConnectionError):
        dynamodb.list_tables()  # not answered over the pooled connection by the stopped emulator
    server._server = None  # the fixture's stop() finds nothing left to stop


def test_a_connection_accepted_as_the_emulator_stops_is_closed_not_served():
    from devstack.emulator import KeepAliveRequestHandler, serve, stop_server

    def never_called(environ, start_response):
        raise AssertionError("a stopped emulator answered a request")

    server = serve(never_called, "127.0.0.1", free_port())
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    stop_server(server)
    serving.join()
    # A connection whose handler starts only now (accepted before the stop, its thread late): the
    # stop could not close it, so the handler must, or a client would go on talking to it.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
    client.sendall(b"GET / HTTP/1.1\r\nHost: emulator\r\n\r\n")
    KeepAliveRequestHandler(accepted, ("127.0.0.1", 0), server)

    client.settimeout(5)
    assert client.recv(1024) == b""  # closed, and nothing answered
    assert not server.live_connections
    client.close()


def test_an_idle_kept_connection_ends_quietly(monkeypatch, caplog):
    # ``make run`` prints the emulator's errors: a kept connection the client left idle ending after
    # ``timeout`` is keep-alive working, not an error to show there
    from devstack.emulator import KeepAliveRequestHandler

    monkeypatch.setattr(KeepAliveRequestHandler, "timeout", 0.2)
    caplog.set_level(logging.INFO, logger="werkzeug")
    port = free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=True)  # as make run prints it
    server.start()
    try:
        create_table(_dynamodb(f"http://127.0.0.1:{port}"), "idle")
        with socket.create_connection(("127.0.0.1", port)) as idle:
            idle.settimeout(5)
            assert idle.recv(1) == b""  # the server ended the idle connection
    finally:
        server.stop()

    logged = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any('"POST / HTTP/1.1" 200' in line for line in logged)  # the server's log is what this reads
    assert not [line for line in logged if "timed out" in line]
