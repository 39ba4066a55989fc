"""The in-memory store's SES identities (tests/support/fakes/ses_identities.py, answered at botocore's
``before-call``) answer exactly what moto's in-process stub answers for the same calls: the same
identity, DKIM and MAIL FROM state, the same held verification, the same errors. Each call is made
on two clients of the same configuration, one with the in-memory answer taken off."""
from __future__ import annotations

import boto3
import boto3.session
import pytest

from devstack.emulator import hold_verification, publish_dns
from tests.support.fakes import ses_identities
from tests.support.fakes.store import in_memory_store

REGION = "eu-central-1"


@pytest.fixture
def clients():
    with in_memory_store():
        in_memory = boto3.client("sesv2", region_name=REGION)
        # A session of its own: the default session's clients are shared across tests (tests/support/aws_clients.py)
        through_stub = boto3.session.Session().client("sesv2", region_name=REGION)
        through_stub.meta.events.unregister("before-call.sesv2", ses_identities._answer_in_memory)
        assert through_stub is not in_memory
        yield in_memory, through_stub


def _answer(call, **params):
    """What a call answers (its metadata aside), or the error's code and message."""
    try:
        answer = call(**params)
    except call.__self__.exceptions.ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"],
                error.response["ResponseMetadata"]["HTTPStatusCode"])
    answer.pop("ResponseMetadata")
    return answer


def _without_key_time(answer):
    # Each creation stamps its own key-generation time: the rest must match.
    if isinstance(answer, dict):
        answer.get("DkimAttributes", {}).pop("LastKeyGenerationTimestamp", None)
    return answer


@pytest.mark.parametrize("domain, held", [("shop-a.example", False), ("shop-b.example", True)])
def test_identity_calls_answer_as_moto_stub_does(clients, domain, held):
    in_memory, through_stub = clients
    if held:
        hold_verification(domain)
    try:
        before = ses_identities.answered_calls["GetEmailIdentity"]
        assert _answer(in_memory.get_email_identity, EmailIdentity=domain) == \
            _answer(through_stub.get_email_identity, EmailIdentity=domain)
        assert ses_identities.answered_calls["GetEmailIdentity"] == before + 1  # the stub answered the other

        created = _without_key_time(_answer(in_memory.create_email_identity, EmailIdentity=domain,
                                            DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"}))
        assert created["VerifiedForSendingStatus"] is (not held)
        assert created["DkimAttributes"]["Status"] == ("PENDING" if held else "SUCCESS")
        for client in (in_memory, through_stub):  # each sets the MAIL FROM once: the later read agrees
            assert _answer(client.put_email_identity_mail_from_attributes, EmailIdentity=domain,
                           MailFromDomain=f"bounce.{domain}", BehaviorOnMxFailure="USE_DEFAULT_VALUE") == {}
        read = _without_key_time(_answer(in_memory.get_email_identity, EmailIdentity=domain))
        assert read == _without_key_time(_answer(through_stub.get_email_identity, EmailIdentity=domain))
        assert read["MailFromAttributes"] == {"MailFromDomain": f"bounce.{domain}", "BehaviorOnMxFailure":
                                              "USE_DEFAULT_VALUE",
                                              "MailFromDomainStatus": "PENDING" if held else "SUCCESS"}
        assert len(read["DkimAttributes"]["Tokens"]) == 3

        assert _answer(in_memory.delete_email_identity, EmailIdentity=domain) == {}
        gone = _answer(in_memory.get_email_identity, EmailIdentity=domain)
        assert gone[:2] == ("error", "NotFoundException")
        assert gone == _answer(through_stub.get_email_identity, EmailIdentity=domain)
        assert _answer(in_memory.put_email_identity_mail_from_attributes, EmailIdentity=domain,
                       MailFromDomain=f"bounce.{domain}") == \
            _answer(through_stub.put_email_identity_mail_from_attributes, EmailIdentity=domain,
                    MailFromDomain=f"bounce.{domain}")
    finally:
        publish_dns(domain)


def test_without_an_open_in_memory_store_nothing_is_answered_here():
    from unittest import mock

    model = mock.Mock()
    model.name = "GetEmailIdentity"
    context = {}
    ses_identities._remember_params(params={"EmailIdentity": "shop.example"}, model=model, context=context)
    assert ses_identities._answer_in_memory(model=model, params={}, request_signer=None, context=context) is None
