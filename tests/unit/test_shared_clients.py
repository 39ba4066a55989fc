"""boto3's clients shared across tests (tests/support/aws_clients.py) carry nothing of one test into
the next: a test that leaves a handler on one fails, a client whose retry quota a test spent is not
handed out again, and a client is shared only for the same configuration of the same session."""
from __future__ import annotations

import boto3
import boto3.session
from botocore.config import Config

from tests.support.aws_clients import check_shared_clients, handlers_of, registered

pytest_plugins = ["pytester"]

REGION = "eu-central-1"


def _nothing(**_):
    return None


def test_a_test_that_leaves_a_handler_on_a_shared_client_fails_and_the_next_gets_a_clean_client(pytester):
    pytester.makepyfile(test_leaky="""
        import boto3
        from tests.support.aws_clients import registered

        def spy(**_):
            return None

        def test_leaves_its_spy():
            boto3.client("sqs", region_name="eu-central-1").meta.events.register("before-call.sqs.SendMessage", spy)

        def test_the_next_test_meets_no_spy():
            client = boto3.client("sqs", region_name="eu-central-1")
            assert spy not in client.meta.events._emitter._handlers.prefix_search("before-call.sqs.SendMessage")

        def test_takes_its_spy_off_again():
            with registered(boto3.client("sqs", region_name="eu-central-1"), "before-call.sqs.SendMessage", spy):
                pass
    """)

    result = pytester.runpytest_inprocess("-p", "tests.support.aws_clients", "-p", "no:cacheprovider", "-p", "no:xdist")

    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaves_its_spy*",
                                 "*LeftHandler*sqs: added [[]('before-call.sqs.SendMessage', 'spy')[]], removed []*"])


def test_one_client_per_configuration_of_the_default_session():
    client = boto3.client("sqs", region_name=REGION)

    assert boto3.client("sqs", region_name=REGION) is client
    assert boto3.client("sqs", region_name="us-east-1") is not client
    assert boto3.client("sqs", region_name=REGION, config=Config(read_timeout=7)) is not client
    assert boto3.client("sqs", region_name=REGION, config=Config(read_timeout=7)) is \
        boto3.client("sqs", region_name=REGION, config=Config(read_timeout=7))
    assert boto3.session.Session().client("sqs", region_name=REGION) is not client  # a session of its own


def test_a_changed_environment_gets_its_own_client(monkeypatch):
    client = boto3.client("sqs", region_name=REGION)

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")

    assert boto3.client("sqs", region_name=REGION) is not client


def test_a_registered_handler_is_on_the_client_for_the_block_only():
    client = boto3.client("sqs", region_name=REGION)
    before = handlers_of(client)

    with registered(client, "before-call.sqs.SendMessage", _nothing):
        assert handlers_of(client) != before
        assert _nothing in client.meta.events._emitter._handlers.prefix_search("before-call.sqs.SendMessage")

    assert handlers_of(client) == before
    check_shared_clients()  # nothing left: no error
    assert boto3.client("sqs", region_name=REGION) is client


def test_a_client_whose_retry_quota_a_test_spent_is_not_handed_out_again():
    client = boto3.client("sqs", region_name=REGION, config=Config(retries={"mode": "standard"}))
    [quota] = {id(handler.__self__._quota): handler.__self__._quota for _, *places in handlers_of(client)
               for place in places for handler in place if hasattr(getattr(handler, "__self__", None), "_quota")}.values()
    assert quota.acquire(5)  # what a throttled retry takes

    check_shared_clients()

    assert boto3.client("sqs", region_name=REGION, config=Config(retries={"mode": "standard"})) is not client
