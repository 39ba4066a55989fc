"""What SES's SendEmail is asked for: the envelope addresses in the 7-bit form SES takes (it
speaks no SMTPUTF8: an internationalised domain goes as IDNA 2008 punycode), the same domain the
message's own To header names."""
from __future__ import annotations

from chalicelib.mail.messenger import SesMessenger


class RecordingClient:
    def __init__(self):
        self.requests: list[dict] = []

    def send_email(self, **request):
        self.requests.append(request)
        return {"MessageId": "m-1"}


def test_an_idn_recipient_and_sender_reach_ses_in_punycode():
    client = RecordingClient()
    SesMessenger(client).send_raw(sender="treue@bücher.example", recipient="kunde@straße.de", raw=b"x",
                                  configuration_set=None, tags={})
    (request,) = client.requests
    assert request["Destination"] == {"ToAddresses": ["kunde@xn--strae-oqa.de"]}
    assert request["FromEmailAddress"] == "treue@xn--bcher-kva.example"


def test_an_ascii_address_goes_as_it_is():
    client = RecordingClient()
    SesMessenger(client).send_raw(sender="loyalty@shop.example", recipient="Olena.Koval+news@example.com", raw=b"x",
                                  configuration_set="set", tags={"shop": "s"})
    (request,) = client.requests
    assert request["Destination"] == {"ToAddresses": ["Olena.Koval+news@example.com"]}
    assert request["FromEmailAddress"] == "loyalty@shop.example"
