"""The unsubscribe page and RFC 8058 one-click through the API on moto."""
from __future__ import annotations

import base64

import pytest

from dataclasses import replace

from chalicelib import composition
from chalicelib.services.mail import mailer
from chalicelib.store.mail.mail_store import MailStore
from tests.support.shops import register_shop
from tests.support.mail import FakeTemplates, NOW, RecordingMessenger, customer_id, deliver_order, queue_message

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(client):
    return register_shop(client, "unsub-shop", "shopify", name="Demo <Electronics> & Co")


def _customer(deps, shop, email: str, locale: str = "uk") -> str:
    deliver_order(deps, shop, email, f"order-{email}", locale=locale)
    return customer_id(deps, shop.shop_id, email)


def _path(deps, shop, customer: str) -> str:
    return f"/u/{deps.tokens.make_token(shop.shop_id, customer)}"


def _page(response) -> str:
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body


def _unsubscribed(shop, customer: str) -> bool:
    return MailStore(shop.shop_id).load_prefs(customer).unsubscribed


def test_page_in_ukrainian_names_the_shop_and_changes_nothing(deps, client, shop):
    customer = _customer(deps, shop, "olena@example.com", "uk")

    response = client.http.get(_path(deps, shop, customer))

    page = _page(response)
    assert response.status_code == 200
    assert '<html lang="uk">' in page
    assert "Відписатися від листів «Demo &lt;Electronics&gt; &amp; Co»?" in page
    assert 'name="action" value="unsubscribe"' in page and ">Відписатися</button>" in page
    assert "<Electronics>" not in page  # escaped everywhere
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert not _unsubscribed(shop, customer)  # a GET (link scanner, preview) never unsubscribes


def test_a_scanners_head_is_answered_like_the_page_and_changes_nothing(deps, client, shop):
    customer = _customer(deps, shop, "scanned@example.com", "uk")

    path = _path(deps, shop, customer)
    response = client.http.head(path)
    # The signature's first character: its last carries two padding bits a decoder ignores, and
    # A→B there changed nothing (a token ending in A, one in sixteen, answered 200).
    head, _, signature = path.rpartition(".")
    broken = client.http.head(f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}")

    assert (response.status_code, response.body) == (200, b"")  # a link checker's 405 read as a dead link
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert broken.status_code == 404
    assert not _unsubscribed(shop, customer)


def test_a_customer_of_no_known_language_gets_the_browsers_before_the_shops(deps, client, shop):
    customer = _customer(deps, shop, "nolocale@example.com", None)
    path, german = _path(deps, shop, customer), {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}

    page = _page(client.http.get(path, headers=german))
    shops = _page(client.http.get(path))
    done = _page(client.http.post(path, headers={**FORM, **german}, body=b"List-Unsubscribe=One-Click"))

    assert '<html lang="de">' in page and '<html lang="uk">' in shops
    assert '<html lang="de">' in done and "Sie sind abgemeldet" in done


def test_page_in_german_and_language_override(deps, client, shop):
    customer = _customer(deps, shop, "jonas@example.com", "de-DE")

    page = _page(client.http.get(_path(deps, shop, customer)))
    assert '<html lang="de">' in page and "E-Mails von „Demo &lt;Electronics&gt; &amp; Co“ abbestellen?" in page

    russian = _page(client.http.get(_path(deps, shop, customer) + "?lang=ru"))
    assert "Отписаться от писем «Demo &lt;Electronics&gt; &amp; Co»?" in russian


def test_one_click_post_unsubscribes_at_once_and_stops_marketing(deps, client, shop):
    customer = _customer(deps, shop, "olena@example.com")

    response = client.http.post(_path(deps, shop, customer), headers=FORM, body=b"List-Unsubscribe=One-Click")

    assert response.status_code == 200 and "Ви відписалися" in _page(response)
    assert _unsubscribed(shop, customer)
    assert MailStore(shop.shop_id).load_prefs(customer).unsubscribe_source == "one_click"
    result = mailer.send_message(deps, queue_message(shop.shop_id, customer, "promo-1"), messenger=RecordingMessenger(),
                                 templates=FakeTemplates(), now=NOW)
    assert result["status"] == "skipped" and result["reason"] == "unsubscribed"
    again = _page(client.http.get(_path(deps, shop, customer)))  # the page now offers to subscribe again
    assert 'value="resubscribe"' in again and "Підписатися знову" in again


def test_one_click_as_multipart_form_data(deps, client, shop):
    customer = _customer(deps, shop, "taras@example.com")
    boundary = "----mailclient7MA4YWxkTrZu0gW"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
            f"One-Click\r\n--{boundary}--\r\n").encode()

    response = client.http.post(_path(deps, shop, customer), body=body,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert response.status_code == 200
    assert _unsubscribed(shop, customer)


def test_resubscribe_from_the_page(deps, client, shop):
    customer = _customer(deps, shop, "olena@example.com")
    client.http.post(_path(deps, shop, customer), headers=FORM, body=b"action=unsubscribe")
    assert _unsubscribed(shop, customer)

    response = client.http.post(_path(deps, shop, customer), headers=FORM, body=b"action=resubscribe")

    assert response.status_code == 200 and "Ви знову підписані" in _page(response)
    assert not _unsubscribed(shop, customer)
    result = mailer.send_message(deps, queue_message(shop.shop_id, customer, "promo-2"), messenger=RecordingMessenger(),
                                 templates=FakeTemplates(), now=NOW)
    assert result["status"] == "sent"


def test_unknown_form_action_is_a_friendly_400(deps, client, shop):
    customer = _customer(deps, shop, "olena@example.com")
    response = client.http.post(_path(deps, shop, customer), headers=FORM, body=b"action=delete-everything")
    assert response.status_code == 400 and "Щось пішло не так" in _page(response)
    assert not _unsubscribed(shop, customer)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),   # signature changed
    lambda t: base64.urlsafe_b64encode(                               # payload changed (other customer)
        base64.urlsafe_b64decode(t.split(".")[0] + "==").replace(b"c_", b"c_f")).rstrip(b"=").decode()
        + "." + t.split(".")[1],
    lambda t: t.split(".")[0],                                        # no signature
    lambda t: "not-a-token",
])
def test_tampered_token_gets_a_friendly_404(deps, client, shop, mangle):
    customer = _customer(deps, shop, "olena@example.com")
    token = mangle(deps.tokens.make_token(shop.shop_id, customer))

    for response in (client.http.get(f"/u/{token}"),
                     client.http.post(f"/u/{token}", headers=FORM, body=b"List-Unsubscribe=One-Click")):
        page = _page(response)
        assert response.status_code == 404
        assert "This link does not work" in page and "Demo" not in page
    assert not _unsubscribed(shop, customer)


def test_token_signed_with_another_key_is_refused(deps, client, shop, monkeypatch):
    customer = _customer(deps, shop, "olena@example.com")
    key = deps.config.link_signing_key
    composition.use(config={"link_signing_key": replace(key, value="an-attackers-guess-of-the-key")})
    forged = deps.tokens.make_token(shop.shop_id, customer)
    composition.use(config={"link_signing_key": replace(key, value="the-real-deployment-secret-0123456789")})
    assert client.http.get(f"/u/{forged}").status_code == 404
    # Rotation: links signed with the previous key keep working.
    composition.use(config={"link_signing_key": replace(key, value="the-real-deployment-secret-0123456789",
                                                        previous="an-attackers-guess-of-the-key")})
    assert client.http.get(f"/u/{forged}").status_code == 200


def test_token_carries_no_email(deps, shop):
    customer = _customer(deps, shop, "olena.koval@example.com")
    token = deps.tokens.make_token(shop.shop_id, customer)
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert "@" not in payload and "olena" not in payload.lower() and "olena" not in token.lower()
    assert deps.tokens.read_token(token).customer_id == customer


def test_link_in_a_sent_mail_unsubscribes(deps, client, shop):
    customer = _customer(deps, shop, "olena@example.com")
    messenger = RecordingMessenger()
    mailer.send_message(deps, queue_message(shop.shop_id, customer, "promo-3"), messenger=messenger,
                        templates=FakeTemplates(), now=NOW)
    header = str(messenger.messages()[0]["List-Unsubscribe"])
    path = "/u/" + header.split("/u/", 1)[1].split(">", 1)[0]

    response = client.http.post(path, headers=FORM, body=b"List-Unsubscribe=One-Click")

    assert response.status_code == 200 and _unsubscribed(shop, customer)


def test_an_oversized_form_is_refused_with_413_before_it_is_read(deps, client, shop):
    from chalicelib.platforms.body import MAX_BODY_BYTES

    customer = _customer(deps, shop, "olena@example.com")
    # One-click first, padded past the API's one body limit: a form this size is not read at all.
    body = b"List-Unsubscribe=One-Click&pad=" + b"x" * MAX_BODY_BYTES

    response = client.http.post(_path(deps, shop, customer), headers={**FORM, "Accept-Language": "de"}, body=body)

    assert response.status_code == 413
    page = _page(response)
    assert "Das Formular war zu groß" in page and "größer als 1 MB" in page
    assert not _unsubscribed(shop, customer)
    at_the_limit = b"List-Unsubscribe=One-Click&pad=" + b"x" * (MAX_BODY_BYTES - len("List-Unsubscribe=One-Click&pad="))
    assert client.http.post(_path(deps, shop, customer), headers=FORM, body=at_the_limit).status_code == 200
    assert _unsubscribed(shop, customer)


def test_a_customer_who_unsubscribes_again_counts_once_per_campaign(deps, client, shop):
    # Unsubscribe, subscribe again, unsubscribe again from the same e-mail's link: one person left that
    # campaign (the stack counted 3 unsubscribes for one customer and its rate read 3 of 16 recipients).
    # Another campaign's e-mail still counts its own.
    from chalicelib.store.campaigns.results import Results

    customer = _customer(deps, shop, "olena@example.com")
    first = f"/u/{deps.tokens.make_token(shop.shop_id, customer, subject='campaign:winter')}"
    for body in (b"List-Unsubscribe=One-Click", b"action=resubscribe", b"action=unsubscribe",
                 b"action=resubscribe", b"List-Unsubscribe=One-Click"):
        assert client.http.post(first, headers=FORM, body=body).status_code == 200
    assert _unsubscribed(shop, customer)
    assert Results(shop.shop_id, "campaign:winter").totals()["unsubscribed"] == 1

    client.http.post(first, headers=FORM, body=b"action=resubscribe")
    later = f"/u/{deps.tokens.make_token(shop.shop_id, customer, subject='campaign:spring')}"
    assert client.http.post(later, headers=FORM, body=b"action=unsubscribe").status_code == 200
    assert Results(shop.shop_id, "campaign:spring").totals()["unsubscribed"] == 1
    assert Results(shop.shop_id, "campaign:winter").totals()["unsubscribed"] == 1
