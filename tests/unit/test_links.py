"""Tracked links: where they may lead, how rewards land, which click an order owes to, tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.codes import RewardCode
from chalicelib.domain.campaigns.links import Click, attributed_click, safe_destination, shop_hosts, with_code
from chalicelib.mail import tokens
from chalicelib.config import DEV_SIGNING_KEY
from chalicelib.mail.tracking import LinkTracker
from tests.support.clock import FakeClock
from tests.support.examples import examples

HOSTS = shop_hosts("https://shop.example", ["shop-cdn.example"])
NOW = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("url", [
    "https://shop.example", "https://shop.example/", "https://shop.example/collections/sale?utm_source=mail#top",
    "https://www.shop.example/p/1", "https://shop-cdn.example/lookbook", "https://SHOP.example/x",
    "http://shop.example/plain-http",
])
def test_links_to_the_shops_own_hosts_are_allowed(url):
    assert safe_destination(url, HOSTS) == url


@pytest.mark.parametrize("url", [
    "https://evil.example/", "//evil.example/", "//shop.example/",  # scheme-relative: never
    "https://shop.example.evil.com/", "https://evilshop.example/", "https://shop.exampleevil.com/",
    "https://shop.example@evil.example/", "https://user:pass@shop.example/",
    "https://evil.example\\@shop.example/", "https:/\\evil.example", "https:\\\\evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>1</script>",
    "vbscript:msgbox", "https%3A%2F%2Fevil.example", "%2F%2Fevil.example", "/relative/path", "",
    " https://shop.example/", "https://shop.example/\r\nLocation: https://evil.example",
    "ftp://shop.example/file", "https://shop.example:99999/", "http://shop.example:8080/",
    "https://evil.example/?next=https://shop.example", "https://shop.example" + "/x" * 1200,
])
def test_open_redirect_attempts_are_refused(url):
    assert safe_destination(url, HOSTS) is None


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=80))
def test_anything_allowed_leads_to_a_shop_host(text):
    for candidate in (text, "https://" + text, "https://shop.example" + text, "//" + text):
        allowed = safe_destination(candidate, HOSTS)
        if allowed is not None:
            host = urlsplit(allowed).hostname
            assert host == "shop.example" or host.endswith(".shop.example") or host.endswith("shop-cdn.example")
            assert urlsplit(allowed).scheme in ("http", "https")


def test_shopify_lands_on_its_discount_url_and_then_the_page():
    landing = with_code("shopify", "https://shop.example/collections/sale?sort=price#grid", "DAY-ABCDE")
    parts = urlsplit(landing)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "shop.example", "/discount/DAY-ABCDE")
    assert parse_qs(parts.query) == {"redirect": ["/collections/sale?sort=price#grid"]}


def test_woocommerce_gets_the_coupon_parameter_and_generic_gets_a_page():
    landing = with_code("woocommerce", "https://shop.example/shop/?orderby=price&coupon_code=OLD", "DAY-ABCDE")
    assert parse_qs(urlsplit(landing).query) == {"orderby": ["price"], "coupon_code": ["DAY-ABCDE"]}
    assert with_code("generic", "https://shop.example/", "DAY-ABCDE") is None


def test_attribution_window_includes_its_last_moment_and_nothing_after():
    click = Click("campaign:c1", "campaign:c1:cust", NOW)
    assert attributed_click(click, NOW, 5) == click
    assert attributed_click(click, NOW + timedelta(days=5), 5) == click
    assert attributed_click(click, NOW + timedelta(days=5, microseconds=1), 5) is None
    assert attributed_click(click, NOW - timedelta(seconds=1), 5) is None  # paid before the click
    assert attributed_click(None, NOW, 5) is None


def _link(**overrides) -> tokens.TrackedLink:
    values = dict(shop_id="demo", customer_id="c_1", send_key="campaign:c1:c_1", subject="campaign:c1",
                  url="https://shop.example/sale", expires_at=NOW + timedelta(days=180), reward={"code": "DAY-X"})
    values.update(overrides)
    return tokens.TrackedLink(**values)


@pytest.fixture
def signing_keys() -> list[bytes]:
    """The signer's keys, current first: a test rotates them by changing this list."""
    return [DEV_SIGNING_KEY.encode()]


@pytest.fixture
def signer(signing_keys) -> tokens.LinkSigner:
    return tokens.LinkSigner(lambda: tuple(signing_keys), FakeClock(NOW))


def test_tracked_link_tokens_round_trip_and_refuse_any_change(signer, signing_keys):
    token = signer.make_tracked_link(_link())
    assert signer.read_tracked_link(token) == _link()
    payload, signature = token.split(".")
    for forged in (payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
                   payload + "." + signature[::-1], token + "x", token.replace(".", ""), "", "a.b", "é" * 10):
        assert signer.read_tracked_link(forged) is None
    # An unsubscribe token is not a tracked link, nor the other way round.
    assert signer.read_tracked_link(signer.make_token("demo", "c_1")) is None
    assert signer.read_token(token) is None
    signing_keys[:] = [b"another-key-entirely-0123456789"]
    assert signer.read_tracked_link(token) is None
    signing_keys.append(DEV_SIGNING_KEY.encode())
    assert signer.read_tracked_link(token) == _link()  # rotation keeps mail already sent working


def test_unsubscribe_tokens_may_name_their_campaign_and_old_ones_still_work(signer):
    with_subject = signer.read_token(signer.make_token("demo", "c_1", subject="campaign:c1"))
    assert with_subject.subject == "campaign:c1" and with_subject.customer_id == "c_1"
    assert signer.read_token(signer.make_token("demo", "c_1")).subject is None


def _tracker(signer, code=None) -> LinkTracker:
    return LinkTracker(signer=signer, public_url="https://mail.example/", shop_id="demo", customer_id="c_1",
                       send_key="campaign:c1:c_1", subject="campaign:c1", hosts=HOSTS,
                       expires_at=NOW + timedelta(days=180), code=code)


def test_every_shop_link_is_wrapped_and_nothing_else(signer):
    tracker = _tracker(signer, code="DAY-ABCDE")
    html = ('<a href="https://shop.example/sale?a=1&amp;b=2">Shop</a> <a href="https://instagram.example/shop">IG</a>'
            '<a href="https://mail.example/u/tok">Unsubscribe</a><a href="mailto:hi@shop.example">mail</a>')
    out = tracker.html(html)
    wrapped = [part.split('"')[0] for part in out.split('href="')[1:]]
    assert wrapped[0].startswith("https://mail.example/r/")
    assert wrapped[1:] == ["https://instagram.example/shop", "https://mail.example/u/tok", "mailto:hi@shop.example"]
    link = signer.read_tracked_link(wrapped[0].rsplit("/", 1)[1])
    assert link.url == "https://shop.example/sale?a=1&b=2" and link.reward == {"code": "DAY-ABCDE"}
    text = tracker.text("Shop now: https://shop.example/sale?a=1&b=2.\nUnsubscribe: https://mail.example/u/tok\n")
    assert wrapped[0] in text and text.count("/r/") == 1 and text.split("\n")[0].endswith(".")


def test_codes_have_one_set_of_rules():
    def code(**overrides):
        values = dict(code="GIFT-A", shop_id="demo", kind="reward", customer_id=None, value_minor=0, points=0,
                      created_at=NOW, expires_at=NOW + timedelta(days=3), shared=True, max_uses=2,
                      min_order_minor=50000)
        values.update(overrides)
        return RewardCode(**values)

    shared = code()
    assert shared.consume("o1", NOW, 40000) == "the order is below the code's minimum"
    assert shared.consume("o1", NOW, 50000) is None and shared.status == "issued"
    assert shared.consume("o1", NOW, 50000) == "already used by this order"
    assert shared.consume("o2", NOW, 90000) is None and shared.status == "consumed"
    assert shared.consume("o3", NOW, 90000) == "the code was consumed"
    assert code(max_uses=None).max_uses is None
    assert code(shared=True, max_uses=1).max_uses is None  # shared codes default to unlimited
    assert code(shared=False, max_uses=1).consume("o1", NOW + timedelta(days=4), 90000) == "the code has expired"


def _case_blind_rewrite(tracker: LinkTracker, document: str) -> str:
    """The HTML rewriting as it was written first: ``(href=")([^"]*)(")`` with IGNORECASE."""
    import html as html_module
    import re

    def replace(match):
        tracked = tracker.wrap(html_module.unescape(match.group(2)))
        return f"{match.group(1)}{html_module.escape(tracked, quote=True)}{match.group(3)}" if tracked \
            else match.group(0)

    return re.sub(r'(href=")([^"]*)(")', replace, document, flags=re.IGNORECASE)


_HTML_PIECES = st.sampled_from([
    'href="', 'HREF="', 'hReF="', 'Href="', 'href=', 'ref="', 'f="', '="', '"', '""', "href='", ' ', '<a ', '>',
    'https://shop.example/p?a=1&amp;b=2', 'https://instagram.example/x', 'https://shop.example', 'мова «ї»',
    'style="color:red"', 'hhref="', 'xhref="', '&quot;', 'href ="'])


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(_HTML_PIECES, max_size=30).map("".join))
def test_the_html_rewriting_finds_the_links_a_case_blind_href_pattern_finds(document):
    """The tracker finds hrefs from their ``="`` (a literal, searched in C) and checks the name behind
    it: the same links, rewritten to the same bytes, as the case-blind pattern it replaced."""
    signer = tokens.LinkSigner(lambda: (DEV_SIGNING_KEY.encode(),), FakeClock(NOW))
    assert _tracker(signer).html(document) == _case_blind_rewrite(_tracker(signer), document)


def test_the_html_rewriting_of_a_rendered_e_mail_is_the_case_blind_patterns(signer):
    document = ('<a HREF="https://shop.example/a">A</a><a Href="https://shop.example/b?x=1&amp;y=2">B</a>'
                '<td style="x" class="href">t</td><a title="href=" href="https://shop.example/c">C</a>'
                '<a data-href="https://shop.example/d">D</a>') * 3
    ours = _tracker(signer).html(document)
    assert ours == _case_blind_rewrite(_tracker(signer), document)
    # A, B and data-href's D: the case-blind pattern read title's value as an href and went past C
    assert ours.count("https://mail.example/r/") == 9
