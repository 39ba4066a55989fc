"""Server-side template injection: a shop's workspace key saves hostile Jinja.

The well-known SSTI payload families go through every way a template is rendered: the
workspace's preview, the template save (PUT, which renders it in every locale), the test
send, and the real send path (a saved override used for the post-purchase mail of a real
order: webhook → outbox → send queue → the queue handler). For each: nothing executes (no
``uid=`` anywhere, a marker file is never written), nothing leaks (the admin token, the
link-signing key, the AWS credentials and a canary variable of the process environment never
appear), and nothing hangs: runaway loops and huge values stop at the render budget.

A benign template goes through the same four paths first (``control``), so each test can
tell a refused payload from a path that renders nothing at all.
"""
from __future__ import annotations

import json
import logging
import os
import uuid

import boto3
import pytest

from devstack.samples import sample_order_payload
from chalicelib.store.mail.mail_store import MailStore
from tests.support.emulator import sent_mail_in_process
from tests.support.shops import confirm_test_recipient
from tests.support.queues import drain_queue
from tests.support.workspace import workspace_headers

# The sandbox and the send path are the subject, not DynamoDB: the table, the queues and SES are
# in memory (tests/support/fakes), the app and its send handler the real ones.
pytestmark = pytest.mark.in_memory

ATTACKER_NAME = "Mallory"  # the payload runs only for this customer: the save's sample customers pass

# family → payloads. ``{marker}`` is a file a payload that ran a command would create.
FAMILIES: dict[str, list[str]] = {
    "lipsum-globals": [
        "{{ lipsum.__globals__['os'].popen('id; touch {marker}').read() }}",
        "{{ lipsum.__globals__.os.environ }}",
        "{{ lipsum.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
    ],
    "cycler-globals": [
        "{{ cycler.__init__.__globals__.os.popen('id; touch {marker}').read() }}",
        "{{ cycler.__init__.__globals__['os'].environ['LOYALTY_ADMIN_TOKEN'] }}",
    ],
    "joiner-globals": [
        "{{ joiner.__init__.__globals__.os.popen('id; touch {marker}').read() }}",
    ],
    "namespace-globals": [
        "{{ namespace.__init__.__globals__.os.popen('id; touch {marker}').read() }}",
        "{% set ns = namespace(x=1) %}{{ ns.__init__.__globals__ }}",
    ],
    "mro-subclasses": [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ [].__class__.__base__.__subclasses__() }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
        "{{ c()._module.__builtins__['__import__']('os').popen('id; touch {marker}').read() }}"
        "{% endif %}{% endfor %}",
        "{{ shop.__class__.__mro__[-1].__subclasses__() }}",
    ],
    "template-reference": [
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id; touch {marker}').read() }}",
        "{{ self._TemplateReference__context.environment }}",
        "{{ self.__init__.__globals__ }}",
        "{{ self.__dict__ }}",
    ],
    "attr-filter": [
        "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')() }}",
        "{{ lipsum|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
        "{{ t|attr('__func__')|attr('__globals__') }}",
        "{{ (t|attr('\\x5f\\x5ffunc\\x5f\\x5f')).__globals__ }}",
        "{{ (customer|attr('__class__')).__mro__ }}",
        "{{ ('{0.__class__}'|attr('format'))(customer) }}",
    ],
    "str-format": [
        "{{ '{0.__class__.__mro__}'.format(customer) }}",
        "{{ '{0.__func__.__globals__[os]}'.format(t) }}",
        "{{ '{x.__init__.__globals__}'.format_map({'x': shop}) }}",
        "{% set f = '{0.__self__.__dict__}'.format %}{{ f(money) }}",
        "{{ '%s' % t.__func__.__globals__ }}",
        "{{ '{0.__globals__}'|format(t) }}",
    ],
    "helper-internals": [
        "{{ t.__func__.__globals__['os'].environ }}",
        "{{ money.__self__.__dict__ }}",
        "{{ date.__self__._catalog }}",
        "{{ money.__func__.__code__ }}",
    ],
    "config-request-globals": [
        "{{ config.items() }}",
        "{{ config.__class__.__init__.__globals__['os'].popen('id; touch {marker}').read() }}",
        "{{ request.environ }}",
        "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
        "{{ url_for.__globals__['os'].environ }}",
        "{{ get_flashed_messages.__globals__ }}",
        "{{ environment }}{{ env }}{{ settings }}",
    ],
    "mutation": [
        "{% set seen = [] %}{{ seen.append(1) }}",
        "{{ shop.update({'name': 'pwned'}) }}",
        "{{ shop.__setitem__('name', 'pwned') }}",
        "{{ dict.fromkeys(range(10**5), 'x' * 10**5) }}",
    ],
    "huge-range": [
        "{% for a in range(10**6) %}x{% endfor %}",
        "{{ range(10**9)|list|length }}",
        "{{ range(10**12)|length }}",
    ],
    "nested-loops": [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{% macro m() %}{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}"
        "{% endmacro %}{{ m() }}",
        "{% set s %}{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}{% endset %}",
        "{% for a in 'x' * 99999 %}{% for b in 'y' * 99999 %}{% endfor %}{% endfor %}",
    ],
    "huge-values": [
        "{{ 'x' * 10**9 }}",
        "{{ ('x' * 999999) * 999999 }}",
        "{{ ['x'] * 10**9 }}",
        "{{ 9 ** (9 ** 9) }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '%999999999s' % 'x' }}",
        "{{ '{:>999999999}'.format('x') }}",
        "{{ '%999999999s'|format('x') }}",
    ],
    "recursion": [
        "{% macro double(s) %}{{ double(s ~ s) }}{% endmacro %}{{ double('x') }}",
        "{% macro fork() %}{{ fork() }}{{ fork() }}{% endmacro %}{{ fork() }}",
        "{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}",
    ],
}
# Families that only reach Python internals fail as ordinary template errors (the preview
# shows them with their line); the others are stopped by the budget (400 naming the limit).
OVER_BUDGET = {"huge-range", "nested-loops", "huge-values", "recursion"}
CONTROL = "{{ customer.first_name }} has {{ points(account.points_balance) }}, shop {{ shop.name }}"


def _body(payload: str) -> str:
    return f"<mj-section><mj-column><mj-text>{payload}</mj-text></mj-column></mj-section>"


@pytest.fixture
def secrets_of_the_process(monkeypatch):
    """Values of the process environment a leak would show; each is distinctive."""
    canaries = {
        "LOYALTY_LINK_SIGNING_KEY": f"signing-key-{uuid.uuid4().hex}",
        "AWS_SECRET_ACCESS_KEY": f"aws-secret-{uuid.uuid4().hex}",
        "AWS_SESSION_TOKEN": f"aws-session-{uuid.uuid4().hex}",
        "LOYALTY_SSTI_CANARY": f"canary-{uuid.uuid4().hex}",
    }
    for name, value in canaries.items():
        monkeypatch.setenv(name, value)
    return [*canaries.values(), os.environ["LOYALTY_ADMIN_TOKEN"]]


@pytest.fixture
def attack(client, shopify_shop, secrets_of_the_process, tmp_path):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")  # sends can succeed
    confirm_test_recipient(client, shopify_shop.shop_id, "qa@agency.example")
    return _Attack(client, shopify_shop, workspace_headers(client, shopify_shop.shop_id), secrets_of_the_process,
                   tmp_path / "executed")


class _Attack:
    def __init__(self, client, shop, headers, secrets, marker):
        self.client, self.shop, self.headers, self.secrets = client, shop, headers, secrets
        self.marker = marker
        self.url = f"/admin/shops/{shop.shop_id}/templates/post_purchase"
        self.orders = 0

    def payloads(self, family: str) -> list[str]:
        return [payload.replace("{marker}", str(self.marker)) for payload in FAMILIES[family]]

    def post(self, path: str, body: dict, method: str = "post"):
        response = getattr(self.client.http, method)(self.url + path, headers=self.headers,
                                                     body=json.dumps(body).encode())
        return response.status_code, json.loads(response.body)

    def assert_harmless(self, *seen) -> None:
        text = json.dumps(seen, default=str, ensure_ascii=False)
        assert "uid=" not in text and "root:" not in text, text[:2000]
        for secret in self.secrets:
            assert secret not in text, f"a secret of the process leaked: {text[:2000]}"
        assert not self.marker.exists(), "a payload ran a shell command"

    def mails(self) -> list:
        return sent_mail_in_process()

    def real_send(self, email: str) -> tuple[dict, Exception | None]:
        """A paid order of ``email`` (first name Mallory) through the webhook, then its queued
        post-purchase message through the send queue's handler. Returns (message, error)."""
        self.orders += 1
        response = self.shop.deliver(sample_order_payload(
            "shopify", order_id=f"ssti-{self.orders}", email=email, first_name=ATTACKER_NAME, locale="en"),
            topic="orders/paid")
        assert response.status_code == 200, response.body
        (message,) = [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "post_purchase"]
        event = self.client.events.generate_sqs_event(message_bodies=[json.dumps(message)],
                                                      queue_name=os.environ["LOYALTY_SEND_QUEUE"])
        try:
            self.client.lambda_.invoke("send_email", event)
        except Exception as error:  # noqa: BLE001 - a failed message is raised to the queue
            return message, error
        return message, None


def test_control_a_benign_template_goes_through_every_path(attack):
    status, shown = attack.post("/preview", {"mjml": _body(CONTROL), "locale": "en"})
    assert status == 200 and shown["ok"] and "Emily has" in shown["html"]
    status, sent = attack.post("/test-send", {"mjml": _body(CONTROL), "locale": "en", "to": "qa@agency.example"})
    assert status == 200 and "Emily has" in attack.mails()[-1].part("text/html")
    guarded = "{% if customer.first_name == 'Mallory' %}" + CONTROL + "{% endif %}"
    assert attack.post("", {"mjml": _body(guarded), "version": 0}, method="put")[0] == 200
    message, error = attack.real_send("control@example.com")
    assert error is None
    (mail,) = [m for m in attack.mails() if m.recipients == ["control@example.com"]]
    assert "Mallory has" in mail.part("text/html")


@pytest.mark.parametrize("family", FAMILIES)
def test_preview_runs_nothing_and_leaks_nothing(attack, family):
    for payload in attack.payloads(family):
        status, shown = attack.post("/preview", {"mjml": _body(payload), "locale": "en"})
        attack.assert_harmless(shown)
        if family in OVER_BUDGET:
            assert status == 400 and shown["field"] == "mjml", (payload, shown)
            assert "over the render budget" in shown["message"] or "too deep" in shown["message"], shown
        else:
            assert status == 200 and shown["ok"] is False, (payload, shown)
            assert shown["editor_line"] == 1, shown


@pytest.mark.parametrize("family", FAMILIES)
def test_save_refuses_the_template(attack, family):
    for payload in attack.payloads(family):
        status, error = attack.post("", {"mjml": _body(payload), "version": 0}, method="put")
        attack.assert_harmless(error)
        assert status == 400 and error["field"] == "mjml", (payload, error)
    shown = json.loads(attack.client.http.get(attack.url, headers=attack.headers).body)
    assert shown["overridden"] is False


@pytest.mark.parametrize("family", FAMILIES)
def test_test_send_refuses_the_template_and_sends_nothing(attack, family):
    before = len(attack.mails())
    for payload in attack.payloads(family):
        status, error = attack.post("/test-send", {"mjml": _body(payload), "locale": "en",
                                                   "to": "qa@agency.example"})
        attack.assert_harmless(error)
        assert status == 400 and error["field"] == "mjml", (payload, error)
    assert len(attack.mails()) == before


@pytest.mark.parametrize("family", FAMILIES)
def test_real_send_fails_the_message_without_running_it(attack, family, caplog):
    """Saved behind a condition the save's sample customers do not meet, each payload runs
    for a real customer's post-purchase mail: the message fails, is logged and goes to the
    dead-letter path, and no mail leaves."""
    caplog.set_level(logging.ERROR, logger="loyalty.mail")
    store = MailStore(attack.shop.shop_id)
    for number, payload in enumerate(attack.payloads(family)):
        guarded = "{% if customer.first_name == '" + ATTACKER_NAME + "' %}" + payload + "{% endif %}"
        status, saved = attack.post("", {"mjml": _body(guarded), "version": number}, method="put")
        assert status == 200, saved
        email = f"victim{number}@example.com"
        message, error = attack.real_send(email)
        assert error is not None, "the message must fail (and be retried, then dead-lettered)"
        record = store.load_send(message["idempotency_key"])
        assert record.status == "failed" and record.reason.startswith("template:"), record
        assert not [m for m in attack.mails() if email in m.recipients]
        attack.assert_harmless(record.reason, str(error), caplog.text)
    assert "mail template failed" in caplog.text
