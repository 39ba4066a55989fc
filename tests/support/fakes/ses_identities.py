"""SES v2's domain identities answered from moto's SES model at botocore's ``before-call`` seam,
while an in-memory store is open.

Registering a shop (``PUT /admin/shops/{shop}``) claims its sender domain: CreateEmailIdentity,
GetEmailIdentity (twice), PutEmailIdentityMailFromAttributes. Through moto's in-process stub each
call was a request built for the wire, routed by URL among moto's thousands of routes, answered by
moto's response class and parsed again by botocore: some 6 ms a call, a third of a registration,
though almost no test that registers a shop is about its sending domain.

Here the client still validates and serializes the call (the app's real ``SesIdentities`` adapter
and botocore's real client), then ``before-call`` answers it (botocore's own short-cut, the one its
``Stubber`` uses) from the same moto model the stub would reach, with the emulator's SES behaviour
(devstack/emulator.py: Easy DKIM tokens and status, verified at once unless ``hold_verification``,
MAIL FROM read back). The answer is the JSON body moto's response would carry, parsed by botocore's
parser for the operation's output shape; errors are moto's (``NotFoundException`` …) as the
client's own exception classes. So a later send (moto's SES, which checks verified identities), the
sent-mail reader and the tests of sending domains see the same identities as before.

Only the four identity operations, and only while a store of tests/support/fakes is open: on the
emulator every call still goes over HTTP. ``answered_calls`` counts what this seam answered.
"""
from __future__ import annotations

import json
import os
from collections import Counter

IDENTITY_OPERATIONS = frozenset({"CreateEmailIdentity", "GetEmailIdentity", "PutEmailIdentityMailFromAttributes",
                                 "DeleteEmailIdentity"})
_PARAMS = "in_memory_ses_params"
answered_calls: Counter = Counter()
_installed = False


def install() -> None:
    """Add the two handlers to botocore's built-in ones (every session made after this has them,
    as moto adds its own stubber), once per process."""
    global _installed
    if _installed:
        return
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-parameter-build.sesv2", _remember_params))
    BUILTIN_HANDLERS.append(("before-call.sesv2", _answer_in_memory))
    _installed = True


def _remember_params(params, model, context, **kwargs) -> None:
    # before-call sees the serialized request only; the call's own parameters ride in its context.
    if model.name in IDENTITY_OPERATIONS:
        context[_PARAMS] = dict(params)


def _answer_in_memory(model, params, request_signer, context, **kwargs):
    from tests.support.fakes.store import _one_at_a_time, open_store

    if model.name not in IDENTITY_OPERATIONS or _PARAMS not in context or open_store() is None:
        return None
    with _one_at_a_time:  # moto's models are served one request at a time, as the stub serves them
        status, body = _moto_answer(model.name, context.pop(_PARAMS), request_signer.region_name)
    answered_calls[model.name] += 1
    return _parsed(model, status, body)


def _backend(region: str):
    from moto.iam.models import get_account_id_from
    from moto.sesv2.models import sesv2_backends

    return sesv2_backends[get_account_id_from(os.environ["AWS_ACCESS_KEY_ID"])][region]


def _moto_answer(operation: str, params: dict, region: str) -> tuple[int, dict]:
    """(status, body) as moto's SES v2 responses with the emulator's patches answer them."""
    from moto.core.exceptions import JsonRESTError

    from devstack.emulator import _UNPUBLISHED

    backend = _backend(region)
    name = params["EmailIdentity"]  # the call's own value (moto reads it back from the URL path, unquoted)
    try:
        if operation == "CreateEmailIdentity":
            backend.create_email_identity(email_identity=name, tags=params.get("Tags"),
                                          dkim_signing_attributes=params.get("DkimSigningAttributes"),
                                          configuration_set_name=params.get("ConfigurationSetName"))
            answer = backend.get_email_identity(name).get_response_object
            return 200, {key: value for key, value in answer.items()
                         if key in ("IdentityType", "VerifiedForSendingStatus", "DkimAttributes")}
        if operation == "GetEmailIdentity":
            identity = backend.get_email_identity(email_identity=name)
            answer = identity.get_response_object
            mail_from = backend.core_backend.identity_mail_from_domains.get(name)
            if mail_from:
                pending = identity.identity_type == "DOMAIN" and name.lower() in _UNPUBLISHED
                answer["MailFromAttributes"] = {
                    "MailFromDomain": mail_from["mail_from_domain"],
                    "MailFromDomainStatus": "PENDING" if pending else "SUCCESS",
                    "BehaviorOnMxFailure": mail_from["behavior_on_mx_failure"] or "USE_DEFAULT_VALUE"}
            return 200, answer
        if operation == "PutEmailIdentityMailFromAttributes":
            backend.get_email_identity(email_identity=name)  # NotFoundException when missing
            backend.core_backend.identity_mail_from_domains[name] = {
                "mail_from_domain": params.get("MailFromDomain"),
                "behavior_on_mx_failure": params.get("BehaviorOnMxFailure")}
            return 200, {}
        backend.delete_email_identity(email_identity=name)
        return 200, {}
    except JsonRESTError as error:
        return error.code, {"__type": error.error_type, "message": error.message}


def _parsed(model, status: int, body: dict):
    """The HTTP response and what botocore's parser makes of ``body`` for ``model``'s output."""
    from botocore.awsrequest import AWSResponse
    from botocore.parsers import create_parser
    from moto.core.botocore_stubber import MockRawResponse

    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-amzn-requestid": "in-memory"}
    if status >= 300:
        headers["x-amzn-errortype"] = body.get("__type", "")
    parsed = create_parser("rest-json").parse({"status_code": status, "headers": headers, "body": raw},
                                              model.output_shape)
    parsed["ResponseMetadata"]["RetryAttempts"] = 0  # as botocore's endpoint adds it to every answer
    return AWSResponse("https://email.in-memory/", status, headers, MockRawResponse(raw)), parsed
