"""CPU time of one DynamoDB request, botocore's client against the lean path and their parts.

    python -m bench.dynamodb_request_cpu [--requests N]

A consistent Query of 10 items (about 250 bytes each) against the emulator in its own process, on a
kept connection, ``time.process_time`` per request (median of three rounds of N): botocore's client
(parameter validation off, as PynamoDB makes it), ``lean_requests.call``, and the lean path's parts:
signing (ours and botocore's ``SigV4Auth``), the POST on ``http.client`` and on a urllib3 pool.
CPU time includes the kernel's send and receive on loopback; on a busy machine, compare the rows.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    from bench.webhook_cpu import emulator_process

    with emulator_process() as endpoint:
        for name, ms in measure(endpoint, args.requests).items():
            print(f"{name:48} {ms:6.3f} ms")


def measure(endpoint: str, requests: int) -> dict[str, float]:
    import http.client

    import botocore.auth
    import botocore.config
    import botocore.session
    import urllib3
    from botocore.awsrequest import AWSRequest

    from chalicelib.store import lean_requests
    from devstack.tables import create_table

    client = botocore.session.get_session().create_client(
        "dynamodb", config=botocore.config.Config(parameter_validation=False, user_agent="bench"))
    create_table(client, "request-cpu")
    client._make_api_call("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "request-cpu", "Item": {"pk": {"S": "P"}, "sk": {"S": f"S{n}"}, "a": {"S": "x" * 200},
                                                      "n": {"N": "12"}}}} for n in range(10)]})
    query = {"TableName": "request-cpu", "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": "P"}}, "ConsistentRead": True}
    url = endpoint + "/"
    body = json.dumps(query).encode()
    credentials = client._request_signer._credentials
    headers = lean_requests._signed_headers(client, credentials, url, "Query", body)
    host, port = endpoint.split("//")[1].split(":")
    kept = http.client.HTTPConnection(host, int(port))
    pool = urllib3.PoolManager().connection_from_url(endpoint)

    def botocore_sigv4():
        request = AWSRequest(method="POST", url=url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"})
        botocore.auth.SigV4Auth(credentials.get_frozen_credentials(), "dynamodb", "eu-central-1").add_auth(request)

    def on_http_client():
        kept.request("POST", "/", body, headers)
        kept.getresponse().read()

    def on_urllib3_pool():
        pool.urlopen("POST", "/", body=body, headers=headers, retries=False, redirect=False,
                     preload_content=True, decode_content=False)

    cases = {
        "botocore client, Query": lambda: client._make_api_call("Query", query),
        "lean_requests.call, Query": lambda: lean_requests.call(client, "Query", query),
        "  signing, ours": lambda: lean_requests._signed_headers(client, credentials, url, "Query", body),
        "  signing, botocore's SigV4Auth": botocore_sigv4,
        "  POST and answer, http.client (kept)": on_http_client,
        "  POST and answer, urllib3 pool (kept)": on_urllib3_pool,
    }
    return {name: statistics.median(_cpu_ms(case, requests) for _ in range(3)) for name, case in cases.items()}


def _cpu_ms(call, count: int) -> float:
    for _ in range(20):
        call()
    start = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - start) / count * 1000


if __name__ == "__main__":
    main()
