"""Which domains a shop can send from, the records it publishes, and what SES's answer means."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.shops import sender_domains as rules


@pytest.mark.parametrize("typed, stored", [
    ("Shop.Example", "shop.example"),
    ("shop.example.", "shop.example"),
    ("  news.Shop.example ", "news.shop.example"),
    ("Пример.РФ", "xn--e1afmkfd.xn--p1ai"),
    ("münchen-kaffee.de", "xn--mnchen-kaffee-wob.de"),
    ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
    ("shop.co.uk", "shop.co.uk"),
])
def test_domains_are_kept_in_one_punycode_form(typed, stored):
    assert rules.normalise_domain(typed) == stored


@pytest.mark.parametrize("typed, reason", [
    ("co.uk", "public suffix"),
    ("github.io", "public suffix"),
    ("com", "not a domain name"),
    ("https://shop.example", "only the domain"),
    ("shop.example/path", "only the domain"),
    ("loyalty@shop.example", "only the domain"),
    ("shop.example:25", "only the domain"),
    ("10.0.0.1", "IP address"),
    ("-shop.example", "not a"),
    ("shop..example", "not a"),
    ("a" * 64 + ".example", "not a"),
    ("a.b.c.d.e.shop.example", "at most 4 labels"),
    ("", "required"),
    (None, "required"),
])
def test_domains_that_cannot_be_a_shops_sender_are_refused_with_the_reason(typed, reason):
    with pytest.raises(rules.DomainRejected, match=reason):
        rules.normalise_domain(typed)


@given(st.text(max_size=80))
def test_no_input_crashes_the_domain_check(text):
    try:
        stored = rules.normalise_domain(text)
    except rules.DomainRejected:
        return
    assert stored == stored.lower() and stored.isascii() and rules.normalise_domain(stored) == stored


def test_parent_domains_reach_down_to_the_registered_domain_only():
    assert rules.parent_domains("a.b.shop.co.uk") == ["b.shop.co.uk", "shop.co.uk"]
    assert rules.parent_domains("shop.co.uk") == []
    assert rules.parent_domains("news.shop.example") == ["shop.example"]


def test_sender_email_keeps_an_ascii_local_part_and_a_punycode_domain():
    assert rules.normalise_sender_email("Loyalty@Пример.РФ") == "loyalty@xn--e1afmkfd.xn--p1ai"
    with pytest.raises(rules.DomainRejected, match="ASCII"):
        rules.normalise_sender_email("лояльність@shop.example")


def test_dns_records_are_the_easy_dkim_mail_from_and_dmarc_ones():
    records = rules.dns_records("shop.example", ["t1", "t2", "t3"], "bounce.shop.example", "eu-west-1")
    assert [(r.name, r.type, r.value) for r in records] == [
        ("t1._domainkey.shop.example", "CNAME", "t1.dkim.amazonses.com"),
        ("t2._domainkey.shop.example", "CNAME", "t2.dkim.amazonses.com"),
        ("t3._domainkey.shop.example", "CNAME", "t3.dkim.amazonses.com"),
        ("bounce.shop.example", "MX", "10 feedback-smtp.eu-west-1.amazonses.com"),
        ("bounce.shop.example", "TXT", '"v=spf1 include:amazonses.com ~all"'),
        ("_dmarc.shop.example", "TXT", '"v=DMARC1; p=none; rua=mailto:dmarc-reports@shop.example"'),
    ]
    assert [r.required for r in records] == [True] * 5 + [False]


@pytest.mark.parametrize("answer, status", [
    ({"VerifiedForSendingStatus": True, "DkimAttributes": {"Status": "SUCCESS"}}, "verified"),
    ({"VerifiedForSendingStatus": False, "DkimAttributes": {"Status": "PENDING", "Tokens": ["a"]}}, "pending"),
    ({"VerifiedForSendingStatus": False, "DkimAttributes": {"Status": "TEMPORARY_FAILURE"}}, "pending"),
    ({"VerifiedForSendingStatus": False, "DkimAttributes": {"Status": "FAILED"}}, "failed"),
    ({"VerifiedForSendingStatus": False}, "not_started"),
])
def test_ses_identity_answers_map_to_a_status(answer, status):
    assert rules.identity_status(answer).status == status


def test_identity_status_reads_tokens_and_mail_from():
    status = rules.identity_status({
        "VerifiedForSendingStatus": False,
        "DkimAttributes": {"Status": "PENDING", "Tokens": ["x1", "x2", "x3"]},
        "MailFromAttributes": {"MailFromDomain": "bounce.shop.example", "MailFromDomainStatus": "PENDING"}})
    assert status.dkim_tokens == ("x1", "x2", "x3")
    assert (status.mail_from_domain, status.mail_from_status) == ("bounce.shop.example", "PENDING")
