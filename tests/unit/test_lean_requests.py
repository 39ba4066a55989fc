"""The lean path's SigV4 signature is the one ``botocore.auth.SigV4Auth`` makes for the same request."""
from __future__ import annotations

import datetime

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from chalicelib.store import lean_requests

INSTANT = datetime.datetime(2026, 6, 1, 23, 59, 58)


def _client(url: str):
    session = botocore.session.get_session()
    return session.create_client("dynamodb", region_name="eu-central-1", endpoint_url=url,
                                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                 config=Config(user_agent="loyalty-test/1"))


@pytest.mark.parametrize("url", ["https://dynamodb.eu-central-1.amazonaws.com/", "http://127.0.0.1:8123/",
                                 "https://dynamodb.eu-central-1.amazonaws.com:443/"])
@pytest.mark.parametrize("token", [None, "session/token+with=odd chars"])
@pytest.mark.parametrize("day", [INSTANT, INSTANT + datetime.timedelta(seconds=3)])  # the key's day changes
def test_the_signature_is_botocores_own(monkeypatch, url, token, day):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: day)
    monkeypatch.setattr(botocore.compat, "get_current_datetime", lambda: day)
    client = _client(url)
    credentials = Credentials("AKIDEXAMPLE", "secret", token)
    body = '{"TableName":"t","Key":{"pk":{"S":"ї"}}}'.encode()

    ours = lean_requests._signed_headers(client, credentials, url, "GetItem", body)

    request = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"})
    botocore.auth.SigV4Auth(credentials, "dynamodb", "eu-central-1").add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")
    assert ours["User-Agent"] == "loyalty-test/1"


def test_another_body_operation_or_secret_signs_differently(monkeypatch):
    monkeypatch.setattr(botocore.compat, "get_current_datetime", lambda: INSTANT)
    client = _client("https://dynamodb.eu-central-1.amazonaws.com/")

    def signature(operation="Query", body=b"{}", secret="secret"):
        return lean_requests._signed_headers(client, Credentials("AKIDEXAMPLE", secret), client.meta.endpoint_url,
                                             operation, body)["Authorization"]

    assert len({signature(), signature(body=b'{"a":1}'), signature(operation="Scan"), signature(secret="other")}) == 4
    assert signature() == signature()


def test_what_the_lean_path_does_not_do_goes_to_the_full_client(monkeypatch):
    """A proxy or a TLS check turned off: the endpoint is not the lean path's (None), so every
    request goes through botocore, which honours them."""
    # (the AWS endpoint itself, not an emulator's that an earlier test in this worker pointed the environment at)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    session = botocore.session.get_session()

    def endpoint(**options):
        client = session.create_client("dynamodb", region_name="eu-central-1", aws_access_key_id="a",
                                       aws_secret_access_key="b", **options)
        return lean_requests._endpoint(client, "Query", {"TableName": "t"})

    assert endpoint() == "https://dynamodb.eu-central-1.amazonaws.com"
    assert endpoint(config=Config(proxies={"https": "http://proxy.internal:3128"})) is None
    assert endpoint(verify=False) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert endpoint() is None
