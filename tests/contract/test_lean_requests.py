"""``store/lean_requests.py``: the send path's Query and transactions, posted without botocore's
per-request machinery, give the very items and the very errors botocore's client gives. On the
emulator the lean path answers (a 200) or hands the request to the full client (anything else); on
the in-memory store, whose client is not botocore's, the client is called as it is."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import keys, lean_requests
from chalicelib.store.connection import connection, lean_connection
from chalicelib.store.models import Item, LotItem, OutboxItem
from tests.support.partition_query import partition_raw_items

PK = keys.customer_pk("lean-shop", "c_ü+1@example.com")


def _table() -> str:
    return Item._get_connection().table_name


def _put(key_sk: str, **attributes) -> dict:
    item = {"pk": {"S": PK}, "sk": {"S": key_sk}, **attributes}
    return {"Put": {"TableName": _table(), "Item": item}}


def _query(**extra) -> dict:
    return {"TableName": _table(), "KeyConditionExpression": "#pk = :pk", "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":pk": {"S": PK}}, "ConsistentRead": True, **extra}


def _without_metadata(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key not in ("ResponseMetadata", "ConsumedCapacity")}


@pytest.fixture
def lean_tries(monkeypatch):
    """Each lean try and whether the lean path answered it (False: handed to the full client)."""
    tries = []
    original = lean_requests.plain_answer

    def recorded(client, operation, parameters):
        answer = original(client, operation, parameters)
        tries.append((operation, answer is not None))
        return answer

    monkeypatch.setattr(lean_requests, "plain_answer", recorded)
    return tries


def test_the_same_items_written_and_read_as_botocore_writes_and_reads_them(repos, lean_tries):
    client = connection().client
    values = {"name": {"S": "Олена «ї» \u2028 \"quoted\" \\ back"}, "points": {"N": "-12.50"},
              "tags": {"SS": ["a", "ü"]}, "nums": {"NS": ["1", "2.5"]}, "none": {"NULL": True},
              "flag": {"BOOL": False}, "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "3"}]}}}}
    lean_requests.call(client, "TransactWriteItems", {"TransactItems": [_put("LEAN#1", **values)]})
    client._make_api_call("TransactWriteItems", {"TransactItems": [_put("FULL#1", **values)]})

    lean = _without_metadata(lean_requests.call(client, "Query", _query()))
    full = _without_metadata(client._make_api_call("Query", _query()))
    assert lean == full
    by_sort_key = {item["sk"]["S"]: {k: v for k, v in item.items() if k != "sk"} for item in full["Items"]}
    assert by_sort_key["LEAN#1"] == by_sort_key["FULL#1"] == {"pk": {"S": PK}, **values}
    if lean_requests.is_lean_capable(client):
        assert lean_tries == [("TransactWriteItems", True), ("Query", True)]
    else:
        assert lean_tries == []  # the in-memory store's client is called as it is


def test_a_page_limit_and_its_last_key_come_back_as_botocore_gives_them(repos):
    client = connection().client
    client._make_api_call("TransactWriteItems", {"TransactItems": [_put(f"PAGE#{n}") for n in range(3)]})
    lean = lean_requests.call(client, "Query", _query(Limit=2))
    full = client._make_api_call("Query", _query(Limit=2))
    assert _without_metadata(lean) == _without_metadata(full)
    assert lean["LastEvaluatedKey"] == {"pk": {"S": PK}, "sk": {"S": "PAGE#1"}}
    if lean_requests.is_lean_capable(client):
        assert lean["ResponseMetadata"]["HTTPStatusCode"] == full["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_refused_transaction_raises_botocores_own_error_with_the_same_reasons(repos, lean_tries):
    client = connection().client
    client._make_api_call("TransactWriteItems", {"TransactItems": [_put("TAKEN#1")]})
    refused = {"TransactItems": [
        {"ConditionCheck": {"TableName": _table(), "Key": {"pk": {"S": PK}, "sk": {"S": "NOPE"}},
                            "ConditionExpression": "attribute_not_exists(pk)"}},
        {**_put("TAKEN#1"), "Put": {**_put("TAKEN#1")["Put"], "ConditionExpression": "attribute_not_exists(pk)"}}]}
    errors = []
    for send in (lambda: lean_requests.call(client, "TransactWriteItems", refused),
                 lambda: client._make_api_call("TransactWriteItems", refused)):
        with pytest.raises(ClientError) as caught:
            send()
        errors.append(caught.value)
    lean_error, full_error = errors
    assert type(lean_error) is type(full_error)
    assert lean_error.response["Error"]["Code"] == full_error.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in lean_error.response["CancellationReasons"]] == \
        [r["Code"] for r in full_error.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    if lean_requests.is_lean_capable(client):
        assert lean_tries == [("TransactWriteItems", False)]  # refused on the lean try, raised by botocore


def test_the_lean_connection_raises_pynamodbs_errors_as_the_tables_connection_does(repos):
    """What mail_store's claim goes by: PynamoDB's TransactWriteError with its cancellation reasons."""
    outbox = OutboxItem("OUTBOX#lean-shop#1", "k", message={"kind": "x"}, created_at="2026-06-01T09:30:00Z")
    outbox.save()
    reasons = []
    for chosen in (lean_connection(), connection()):
        with pytest.raises(TransactWriteError) as caught:
            with TransactWrite(connection=chosen) as write:
                write.save(LotItem(PK, "LOT#1", lot_id="l1", points=1, earned_at="2026-06-01T09:30:00Z",
                                   expires_at="2027-06-01T09:30:00Z", source="s", customer_id="c"))
                write.save(outbox, condition=OutboxItem.pk.does_not_exist())
        reasons.append((caught.value.cause_response_code,
                        [reason and reason.code for reason in caught.value.cancellation_reasons]))
    assert reasons[0] == reasons[1] == ("TransactionCanceledException", [None, "ConditionalCheckFailed"])
    assert list(partition_raw_items(PK, Item.sk.startswith("LOT#"))) == []  # all or nothing, on both


def test_the_send_paths_read_gives_the_models_the_tables_query_gives(repos):
    LotItem(PK, "LOT#2027-06-01#l1", lot_id="l1", points=7, earned_at="2026-06-01T09:30:00Z",
            expires_at="2027-06-01T09:30:00Z", source="order:1", customer_id="c", warned={30}).save()
    lean = [Item.from_raw_data(raw).serialize()
            for raw in partition_raw_items(PK, Item.sk.startswith("LOT#"), consistent_read=True)]
    full = [item.serialize() for item in LotItem.query(PK, LotItem.sk.startswith("LOT#"), consistent_read=True)]
    assert lean == full and len(lean) == 1


def test_a_transactional_read_gives_the_items_and_the_gaps_botocore_gives(repos, lean_tries):
    """The webhook's one read (TransactGetItems), for when its change takes the lean path."""
    from pynamodb.transactions import TransactGet

    client = connection().client
    client._make_api_call("TransactWriteItems", {"TransactItems": [_put("READ#1", points={"N": "5"})]})
    request = {"TransactItems": [{"Get": {"TableName": _table(), "Key": {"pk": {"S": PK}, "sk": {"S": sort_key}}}}
                                 for sort_key in ("READ#1", "MISSING")]}
    lean = lean_requests.call(client, "TransactGetItems", request)
    full = client._make_api_call("TransactGetItems", request)
    assert lean["Responses"] == full["Responses"]
    assert lean["Responses"][0]["Item"]["points"] == {"N": "5"} and "Item" not in lean["Responses"][1]
    LotItem(PK, "LOT#1", lot_id="l1", points=3, earned_at="2026-06-01T09:30:00Z", expires_at="2027-06-01T09:30:00Z",
            source="s", customer_id="c").save()
    with TransactGet(connection=lean_connection()) as get:
        found = get.get(LotItem, PK, "LOT#1")
    assert found.get().points == 3
    if lean_requests.is_lean_capable(client):
        assert lean_tries == [("TransactGetItems", True), ("TransactGetItems", True)]


def test_a_network_failure_on_the_lean_try_is_sent_again_by_the_full_client(repos, monkeypatch):
    client = connection().client

    def unreachable(*args):
        raise ConnectionError("reset by peer")

    monkeypatch.setattr(lean_requests, "_connect", unreachable)
    lean_requests._kept.__dict__.clear()
    lean_requests.call(client, "TransactWriteItems", {"TransactItems": [_put("AFTER#1")]})
    assert [item["sk"]["S"] for item in client._make_api_call("Query", _query())["Items"]] == ["AFTER#1"]


def test_a_transaction_carries_one_idempotency_token_to_both_tries():
    parameters = {"TransactItems": []}
    first = lean_requests.with_idempotency_token("TransactWriteItems", parameters)
    assert first["ClientRequestToken"] and "ClientRequestToken" not in parameters
    assert lean_requests.with_idempotency_token("TransactWriteItems", first) is first
    assert lean_requests.with_idempotency_token("Query", parameters) is parameters


@pytest.mark.parametrize("expected, body, matches", [
    (None, b"{}", True), (str(0x4E0B6AD6), b'{"a":1}', None), ("12", b"{}", False), ("x", b"{}", False)])
def test_the_answers_checksum_is_checked_as_botocore_checks_it(expected, body, matches):
    import zlib

    if matches is None:
        expected, matches = str(zlib.crc32(body) & 0xFFFFFFFF), True
    assert lean_requests._crc32_matches(expected, body) is matches


def test_the_claims_send_log_and_ses_lookup_puts_are_the_models_own_saves():
    """The claim and the final write put the send log and the SES id lookup from their values
    (``Transaction.put``): the same request ``save`` of the model would send."""
    from datetime import datetime, timedelta, timezone

    from chalicelib.store.mail import mail_store
    from chalicelib.store.models import MailSendItem
    from chalicelib.store.transaction import put_kwargs

    now = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
    for claim_id, campaign in ((None, None), ("c1", "camp-1")):
        send = mail_store.SendRecord("lean-shop", "key-ї", "c_1", "post_purchase", "transactional", campaign,
                                     mail_store.CLAIMED, now, claim_id=claim_id, claimed_until=now + timedelta(minutes=5),
                                     attempts=2)
        values = mail_store._send_values(send, now)
        condition = mail_store._claim_condition(now, only_if_new=claim_id is None)
        assert put_kwargs(MailSendItem, values, condition) == \
            MailSendItem(**values).get_save_kwargs_from_instance(condition=condition)
