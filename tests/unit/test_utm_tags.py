"""Campaign tags on the shop's links (domain/campaigns/links.py with_utm, mail/tracking.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from chalicelib.domain.campaigns.links import with_utm
from chalicelib.mail.tracking import LinkTracker


def test_tags_are_added_and_the_marketers_own_kept():
    url = with_utm("https://shop.example/collections/sale?utm_source=newsletter&size=M#top", "loyalty", "email",
                   "Winter sale – 20 %")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query == {"utm_source": ["newsletter"], "size": ["M"], "utm_medium": ["email"],
                     "utm_campaign": ["Winter sale – 20 %"]}
    assert parts.fragment == "top" and parts.path == "/collections/sale"


class _Signer:
    def __init__(self):
        self.links = []

    def make_tracked_link(self, link):
        self.links.append(link)
        return f"t{len(self.links)}"


def test_only_the_shops_own_links_are_tagged():
    signer = _Signer()
    tracker = LinkTracker(signer=signer, public_url="https://api.example", shop_id="s", customer_id="c", send_key="k",
                          subject="campaign:abc", hosts=frozenset({"shop.example"}),
                          expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc), utm=("loyalty", "email", "Spring"))
    html = tracker.html('<a href="https://shop.example/p/1">x</a> <a href="https://instagram.com/shop">y</a>')
    assert "https://instagram.com/shop" in html  # not ours: neither wrapped nor tagged
    (link,) = signer.links
    assert parse_qs(urlsplit(link.url).query) == {"utm_source": ["loyalty"], "utm_medium": ["email"],
                                                  "utm_campaign": ["Spring"]}


def test_no_tags_when_the_shop_turned_them_off():
    signer = _Signer()
    LinkTracker(signer=signer, public_url="https://api.example", shop_id="s", customer_id="c", send_key="k",
                subject="flow:winback", hosts=frozenset({"shop.example"}),
                expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc)).wrap("https://shop.example/")
    assert signer.links[0].url == "https://shop.example/"


def test_a_destination_kept_for_one_shop_and_its_tags_is_not_another_shops_or_tags():
    def tracked(hosts, utm):
        signer = _Signer()
        LinkTracker(signer=signer, public_url="https://api.example", shop_id="s", customer_id="c", send_key="k",
                    subject="campaign:abc", hosts=frozenset(hosts), utm=utm,
                    expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc)).wrap("https://shop.example/p/1")
        return [link.url for link in signer.links]

    for _ in range(2):  # the second round from what was kept
        assert tracked({"shop.example"}, ("loyalty", "email", "Spring")) == [
            "https://shop.example/p/1?utm_source=loyalty&utm_medium=email&utm_campaign=Spring"]
        assert tracked({"shop.example"}, ("loyalty", "email", "Summer")) == [
            "https://shop.example/p/1?utm_source=loyalty&utm_medium=email&utm_campaign=Summer"]
        assert tracked({"shop.example"}, None) == ["https://shop.example/p/1"]
        assert tracked({"other.example"}, ("loyalty", "email", "Spring")) == []  # not that shop's host
