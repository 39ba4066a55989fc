"""``store.transaction``: an item put from its values is the item PynamoDB's model would have
written (same attributes, same condition, same request), versioned items still go through their
version condition, and the transaction stays all-or-nothing on either store."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynamodb.attributes import (BooleanAttribute, DiscriminatorAttribute, JSONAttribute, NumberAttribute,
                                 NumberSetAttribute, UnicodeSetAttribute, VersionAttribute)
from pynamodb.exceptions import AttributeNullError, DoesNotExist, TransactWriteError

from chalicelib.store import counters, keys
from chalicelib.store.connection import connection
from chalicelib.store.counters import CounterAddition
from chalicelib.store.models import (CodeItem, EventItem, Item, LedgerItem, LotItem, OrderItem, OutboxItem,
                                     PlatformCustomerItem, ProfileItem, PurchaseItem, over_version)
from chalicelib.store.transaction import (PreparedCondition, Transaction, TransactRead, attribute_map, get_kwargs,
                                          item_values, put_kwargs, put_over_version_kwargs)
from tests.support.examples import examples

PK = keys.customer_pk("contract-shop", "c_1")

# Every unversioned item a paid order's transaction puts, with optional attributes both given and left out.
ITEMS = [
    (EventItem, {"pk": keys.event_pk("contract-shop", "e-1"), "sk": keys.EVENT_SK, "topic": "orders/paid",
                 "received_at": "2026-06-01T09:30:00Z", "ttl": 1780000000}, EventItem.pk.does_not_exist()),
    (EventItem, {"pk": keys.event_pk("contract-shop", "e-2"), "sk": keys.EVENT_SK, "topic": None,
                 "received_at": "2026-06-01T09:30:00Z", "ttl": None}, EventItem.pk.does_not_exist()),
    (LedgerItem, {"pk": PK, "sk": "LEDGER#2026-06-01T09:30:00Z#0#x", "entry_id": "x", "entry_kind": "earn",
                  "points": 120, "cashback_minor": 0, "spend_minor": 12000, "cause": "order:1",
                  "created_at": "2026-06-01T09:30:00Z", "detail": {"order_id": "1", "note": "ї"}},
     LedgerItem.pk.does_not_exist()),
    (LedgerItem, {"pk": PK, "sk": "LEDGER#2026-06-01T09:30:00Z#1#y", "entry_id": "y", "entry_kind": "bonus",
                  "points": -5, "cashback_minor": 3, "spend_minor": 0, "cause": "signup",
                  "created_at": "2026-06-01T09:30:00Z", "detail": None}, None),
    (LotItem, {"pk": PK, "sk": "LOT#2027-06-01#l1", "lot_id": "l1", "points": 120, "earned_at": "2026-06-01T09:30:00Z",
               "expires_at": "2027-06-01T09:30:00Z", "source": "order:1", "customer_id": "c_1",
               "warned": {30, 7}, "gsi1pk": "SHOP#contract-shop#LOTDUE#2027-06-01", "gsi1sk": "c_1"}, None),
    (LotItem, {"pk": PK, "sk": "LOT#2027-06-01#l2", "lot_id": "l2", "points": 1, "earned_at": "2026-06-01T09:30:00Z",
               "expires_at": "2027-06-01T09:30:00Z", "source": "order:2", "customer_id": "c_1", "warned": None,
               "gsi1pk": "SHOP#contract-shop#LOTDUE#2027-06-01", "gsi1sk": "c_1"}, None),
    (OutboxItem, {"pk": "OUTBOX#contract-shop#3", "sk": "2026-06-01T09:30:00Z#k", "created_at": "2026-06-01T09:30:00Z",
                  "message": {"kind": "post_purchase", "shop_id": "contract-shop", "data": {"points": 120}}}, None),
    (PlatformCustomerItem, {"pk": keys.platform_customer_pk("contract-shop", "777"), "sk": keys.PLATFORM_CUSTOMER_SK,
                            "customer_id": "c_1"}, None),
]


@pytest.mark.parametrize("model_class, values, condition", ITEMS)
def test_a_put_is_the_models_own_save(model_class, values, condition):
    assert attribute_map(model_class, values) == model_class(**values).serialize()
    assert put_kwargs(model_class, values, condition) == \
        model_class(**values).get_save_kwargs_from_instance(condition=condition)
    if condition is not None:  # serialised once, the same action
        prepared = PreparedCondition(condition)
        for _ in range(2):
            assert put_kwargs(model_class, values, prepared) == \
                model_class(**values).get_save_kwargs_from_instance(condition=condition)


def test_a_prepared_condition_with_values_and_joined_conditions_is_pynamodbs_own():
    model_class, values, _ = ITEMS[2]
    for condition in (LedgerItem.points == 120, LedgerItem.pk.does_not_exist() | (LedgerItem.entry_kind == "earn"),
                      (LedgerItem.cause.startswith("order:")) & LedgerItem.detail.exists()):
        first = put_kwargs(model_class, values, PreparedCondition(condition))
        assert first == model_class(**values).get_save_kwargs_from_instance(condition=condition)
        for value in first["ExpressionAttributeValues"].values():  # an action's maps are its own
            value.clear()
        first["ExpressionAttributeNames"].clear()
        assert put_kwargs(model_class, values, PreparedCondition(condition)) == \
            model_class(**values).get_save_kwargs_from_instance(condition=condition)


def test_a_versioned_item_cannot_be_put_without_its_version_condition():
    with pytest.raises(TypeError, match="versioned"):
        attribute_map(ProfileItem, {"pk": PK, "sk": keys.PROFILE_SK})
    with pytest.raises(TypeError, match="versioned"):
        put_kwargs(OrderItem, {"pk": PK, "sk": keys.ORDER_SK, "status": "paid", "state": {}})
    with pytest.raises(TypeError, match="not versioned"):
        put_over_version_kwargs(LedgerItem, ITEMS[2][1], 3)


# Every versioned item a paid order's transaction writes: optional attributes and index keys given and left out.
VERSIONED = [
    (ProfileItem, {"pk": PK, "sk": keys.PROFILE_SK, "customer_id": "c_1", "created_at": "2026-06-01T09:30:00Z",
                   "email": "olena+news@example.com", "first_name": "Олена", "marketing_consent": True,
                   "platform_customer_ids": {"777"}, "points_balance": 120, "points_debt": 0, "cashback_minor": 0,
                   "lifetime_spend_minor": 12000, "spend_by_day": {"2026-06-01": 12000}, "orders_count": 1,
                   "last_order_at": "2026-06-01T09:30:00Z", "tier_name": None, "discount_percent": "5",
                   "program_state": {"referral_code": "REF-1"}, "bought_skus": None,
                   "gsi4pk": "SHOP#contract-shop#CUSTOMERS#3", "gsi4sk": "c_1",
                   "gsi3pk": "SHOP#contract-shop#LASTORDER#2026-06-01", "gsi3sk": "c_1"}),
    (ProfileItem, {"pk": PK, "sk": keys.PROFILE_SK, "customer_id": "c_1", "created_at": "2026-06-01T09:30:00Z"}),
    (OrderItem, {"pk": keys.order_pk("contract-shop", "1001"), "sk": keys.ORDER_SK, "customer_id": "c_1",
                 "status": "paid", "state": {"name": "#1001", "lines": [{"sku": "A", "paid_minor": 12000}],
                                             "paid_at": "2026-06-01T09:30:00Z", "refused_codes": None}}),
    (OrderItem, {"pk": keys.order_pk("contract-shop", "1002"), "sk": keys.ORDER_SK, "customer_id": None,
                 "status": "open", "state": {}}),
    (CodeItem, {"pk": keys.code_pk("contract-shop", "LOY-ABC"), "sk": keys.CODE_SK, "code_kind": "points",
                "customer_id": "c_1", "status": "used", "state": {"value_minor": 5000, "points": 500},
                "expires_at": "2026-09-01T09:30:00Z", "gsi1pk": None}),
]


@pytest.mark.parametrize("version", [0, 1, 7])
@pytest.mark.parametrize("model_class, values", VERSIONED)
def test_a_versioned_put_is_the_models_own_save_over_that_version(model_class, values, version):
    saved = over_version(model_class(**values), version)
    assert put_over_version_kwargs(model_class, values, version) == saved.get_save_kwargs_from_instance()
    extra = model_class.customer_id.exists()  # a caller's own condition joins the version's, as in save
    assert put_over_version_kwargs(model_class, values, version, condition=extra) == \
        over_version(model_class(**values), version).get_save_kwargs_from_instance(condition=extra)
    assert put_over_version_kwargs(model_class, values, version, condition=PreparedCondition(extra)) == \
        over_version(model_class(**values), version).get_save_kwargs_from_instance(condition=extra)


def test_the_prepared_version_conditions_are_not_shared_between_puts():
    model_class, values = VERSIONED[0]
    first = put_over_version_kwargs(model_class, values, 3)
    first["ExpressionAttributeValues"][":0"]["N"] = "99"
    first["ExpressionAttributeNames"].clear()
    for version in (3, 4, 0):
        assert put_over_version_kwargs(model_class, values, version) == \
            over_version(model_class(**values), version).get_save_kwargs_from_instance()


def test_the_transactions_requests_are_pynamodbs_own(repos, monkeypatch):
    """Transaction and TransactRead send what PynamoDB's transact_write_items / transact_get_items
    send through the connection's _make_api_call (dispatch's parameters, in the same order), and
    turn botocore's errors into PynamoDB's alike."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import TransactGetError

    repos.loyalty("contract-shop")
    low_level = connection()
    sent = []
    answer: dict = {"Responses": [{}]}

    def recorded(operation, parameters):
        sent.append((operation, json.dumps(parameters)))  # (the order of the keys too)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(low_level, "_make_api_call", recorded)
    write = Transaction(low_level)
    write.put(*ITEMS[0])
    write.put_over_version(ProfileItem, VERSIONED[0][1], 3)
    write.condition_check(EventItem, ITEMS[1][1]["pk"], keys.EVENT_SK, condition=EventItem.pk.exists())
    write.delete(LotItem(PK, "LOT#2027-06-01#l1"))
    write.update_action(CounterAddition("DASH#contract-shop#3", "DAY#2026-06-01", "dashboard", {"n_orders": 1})
                        .update_action())
    write.commit()
    low_level.transact_write_items(condition_check_items=write._condition_checks, delete_items=write._deletes,
                                   put_items=write._puts, update_items=write._updates)
    with TransactRead(low_level) as read:
        read.get(ProfileItem, PK, keys.PROFILE_SK)
    low_level.transact_get_items(get_items=read._gets)
    assert [operation for operation, _ in sent] == ["TransactWriteItems"] * 2 + ["TransactGetItems"] * 2
    assert sent[0] == sent[1] and sent[2] == sent[3]

    answer = ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "no"},
                          "CancellationReasons": [{"Code": "ConditionalCheckFailed"}]}, "TransactWriteItems")
    with pytest.raises(TransactWriteError) as ours:
        write.commit()
    with pytest.raises(TransactWriteError) as pynamodbs:
        low_level.transact_write_items([], [], write._puts, [])
    assert (ours.value.cause_response_code, ours.value.cause_response_message) == \
        (pynamodbs.value.cause_response_code, pynamodbs.value.cause_response_message) == \
        ("TransactionCanceledException", "no")
    with pytest.raises(TransactGetError):
        with TransactRead(low_level) as read:
            read.get(ProfileItem, PK, keys.PROFILE_SK)


def test_a_versioned_put_writes_over_the_version_read_and_no_other(repos):
    repos.loyalty("contract-shop")
    values = VERSIONED[0][1]
    with Transaction(connection()) as write:  # no item yet: version 0
        write.put_over_version(ProfileItem, values, 0)
    assert ProfileItem.get(PK, keys.PROFILE_SK, consistent_read=True).version == 1
    for stale in (0, 2):  # a writer that read no item, or a version that was never stored
        with pytest.raises(TransactWriteError):
            with Transaction(connection()) as write:
                write.put_over_version(ProfileItem, {**values, "points_balance": 1}, stale)
    with Transaction(connection()) as write:
        write.put_over_version(ProfileItem, {**values, "points_balance": 200}, 1)
    stored = ProfileItem.get(PK, keys.PROFILE_SK, consistent_read=True)
    assert (stored.version, stored.points_balance, stored.platform_customer_ids) == (2, 200, {"777"})


def test_a_missing_required_value_or_an_unknown_one_is_refused_like_the_model_does():
    values = {"pk": PK, "sk": "LEDGER#x", "entry_kind": "earn", "points": 1, "cashback_minor": 0, "spend_minor": 0,
              "cause": "c", "created_at": "2026-06-01T09:30:00Z"}  # no entry_id
    with pytest.raises(AttributeNullError):
        LedgerItem(**values).serialize()
    with pytest.raises(AttributeNullError):
        attribute_map(LedgerItem, values)
    with pytest.raises(ValueError, match="does not exist"):
        attribute_map(LedgerItem, {**values, "entry_id": "x", "pointz": 1})


def _profile(version: int) -> ProfileItem:
    return over_version(ProfileItem(PK, keys.PROFILE_SK, customer_id="c_1", created_at="2026-06-01T09:30:00Z",
                                    points_balance=120, points_debt=0, cashback_minor=0, lifetime_spend_minor=12000,
                                    orders_count=1), version)


def test_put_items_read_back_as_their_models_and_versions_move_on(repos):
    repos.loyalty("contract-shop")  # the models on this store's table
    ledger, lot = ITEMS[2][1], ITEMS[4][1]
    profile = _profile(0)
    with Transaction(connection()) as write:
        write.save(profile)
        write.put(LedgerItem, ledger, condition=LedgerItem.pk.does_not_exist())
        write.put(LotItem, lot)
    assert profile.version == 1
    stored = LedgerItem.get(ledger["pk"], ledger["sk"], consistent_read=True)
    assert {name: getattr(stored, name) for name in ledger} == ledger
    assert LotItem.get(lot["pk"], lot["sk"], consistent_read=True).warned == {30, 7}
    assert ProfileItem.get(PK, keys.PROFILE_SK, consistent_read=True).version == 1


def test_a_refused_put_or_a_stale_version_leaves_nothing_behind(repos):
    repos.loyalty("contract-shop")
    ledger = ITEMS[2][1]
    with Transaction(connection()) as write:
        write.save(_profile(0))
        write.put(LedgerItem, ledger, condition=LedgerItem.pk.does_not_exist())
    lot = ITEMS[5][1]
    with pytest.raises(TransactWriteError):  # the ledger entry exists: its condition refuses
        with Transaction(connection()) as write:
            write.put(LotItem, lot)
            write.put(LedgerItem, ledger, condition=LedgerItem.pk.does_not_exist())
    with pytest.raises(TransactWriteError):  # version 0 ("new") over a stored version 1
        with Transaction(connection()) as write:
            write.put(LotItem, lot)
            write.save(_profile(0))
    with pytest.raises(DoesNotExist):
        LotItem.get(lot["pk"], lot["sk"], consistent_read=True)


# What a paid order reads, as the table holds it: every attribute kind, and items written before an
# attribute existed (its default then, as the model gives it).
RAW = [
    (ProfileItem, lambda: ProfileItem(**VERSIONED[0][1], version=4)),
    (ProfileItem, lambda: ProfileItem(pk=PK, sk=keys.PROFILE_SK, customer_id="c_1", created_at="2026-06-01T09:30:00Z")),
    (OrderItem, lambda: OrderItem(**VERSIONED[2][1], version=2)),
    (CodeItem, lambda: CodeItem(**VERSIONED[4][1], version=1)),
    (EventItem, lambda: EventItem(**ITEMS[0][1])),
]


@pytest.mark.parametrize("model_class, make", RAW)
def test_an_item_read_as_values_is_what_its_model_holds(model_class, make):
    model = make()
    raw = model.serialize()
    raw.pop("points_balance", None)  # stored before the attribute existed: its default, as the model reads it
    read = model_class.from_raw_data(raw)
    assert vars(item_values(model_class, raw)) == {name: getattr(read, name)
                                                   for name in model_class.get_attributes() if name != "kind"}
    assert get_kwargs(model_class, model.pk, model.sk) == \
        model_class.get_operation_kwargs_from_class(model.pk, range_key=model.sk)


@pytest.mark.parametrize("stored", [{"N": text} for text in (
    "0", "7", "120", "-5", "-0", "1.5", "1e3", "12345678901234567890123", "0.10", "9" * 4000, " 12", "007", "1_000",
    "\u0661\u0662", "+1", "9" * 5000)] + [{"S": "12"}])
def test_numbers_read_as_values_are_what_the_model_reads_or_refuses(stored):
    raw = {**LedgerItem(**ITEMS[3][1]).serialize(), "points": stored}
    try:
        expected = LedgerItem.from_raw_data(raw).points
    except Exception as refused:
        with pytest.raises(type(refused)):
            item_values(LedgerItem, raw)
        return
    read = item_values(LedgerItem, raw).points
    assert read == expected and type(read) is type(expected)


def test_an_item_of_another_class_is_refused_as_the_model_refuses_it():
    raw = ProfileItem(pk=PK, sk=keys.PROFILE_SK, customer_id="c_1", created_at="2026-06-01T09:30:00Z").serialize()
    with pytest.raises(ValueError, match="Cannot instantiate"):
        item_values(OrderItem, raw)


def test_a_read_gives_each_item_found_in_its_place_and_none_for_the_rest(repos):
    repos.loyalty("contract-shop")
    with Transaction(connection()) as write:
        write.put_over_version(ProfileItem, VERSIONED[0][1], 0)
        write.put(EventItem, ITEMS[0][1])
    with TransactRead(connection()) as read:
        missing = read.get(OrderItem, keys.order_pk("contract-shop", "nope"), keys.ORDER_SK)
        profile = read.get(ProfileItem, PK, keys.PROFILE_SK)
        event = read.get(EventItem, ITEMS[0][1]["pk"], keys.EVENT_SK)
    assert read.item(missing) is None and read.item(None) is None
    assert (read.item(profile).version, read.item(profile).platform_customer_ids) == (1, {"777"})
    assert read.item(profile).spend_by_day == {"2026-06-01": 12000}
    assert read.item(event).topic == "orders/paid"


@pytest.mark.parametrize("addition", [
    CounterAddition("DASH#contract-shop#3", "DAY#2026-06-01", "dashboard", {"n_orders": 1, "n_revenue_minor": 12000,
                                                                           "n_new_customers": 1}),
    CounterAddition("RESULTS#contract-shop#campaign:c1#2", "COUNTS", "results", {"n_sent": 3},
                    stamps={"last_sent_at": "2026-06-01T09:30:00.000000Z"}),
    CounterAddition("RESULTS#contract-shop#flow:f1#0", "COUNTS", "results", {}),
])
def test_a_counter_addition_in_a_transaction_is_pynamodbs_own_update(addition):
    assert addition.update_action() == addition.item().get_update_kwargs_from_instance(actions=addition.actions())


def test_counter_additions_in_transactions_add_up(repos):
    repos.loyalty("contract-shop")
    addition = CounterAddition("DASH#contract-shop#3", "DAY#2026-06-01", "dashboard", {"n_orders": 1, "n_points": 5})
    for _ in range(2):
        with Transaction(connection()) as write:
            counters.add_in(write, addition)
    row = connection().client.get_item(TableName=Item.Meta.table_name, ConsistentRead=True,
                                       Key={"pk": {"S": addition.pk}, "sk": {"S": addition.sk}})["Item"]
    assert (row["type"], row["n_orders"], row["n_points"]) == ({"S": "dashboard"}, {"N": "2"}, {"N": "10"})


def test_json_is_stored_as_utf8_text_and_old_escaped_items_read_the_same(repos):
    repos.loyalty("contract-shop")
    message = {"kind": "post_purchase", "shop_id": "contract-shop",
               "data": {"items": [{"title": "Навушники JBL Tune 520BT, сині", "quantity": 1}], "note": "ї 👍"}}
    values = {"pk": "OUTBOX#contract-shop#1", "sk": "2026-06-01T09:30:00.000000Z#k", "message": message,
              "created_at": "2026-06-01T09:30:00.000000Z"}
    stored = attribute_map(OutboxItem, values)["message"]["S"]
    assert "Навушники" in stored and "\\u" not in stored  # 2 bytes a letter, not a 6-byte escape
    assert len(stored.encode()) < len(json.dumps(message).encode())
    with Transaction(connection()) as write:
        write.put(OutboxItem, values)
    assert OutboxItem.get(values["pk"], values["sk"], consistent_read=True).message == message
    # an item written before (ASCII escapes) reads as the same message
    connection().client.put_item(TableName=Item.Meta.table_name, Item={
        "pk": {"S": "OUTBOX#contract-shop#2"}, "sk": {"S": values["sk"]}, "type": {"S": "outbox"},
        "created_at": {"S": values["created_at"]}, "message": {"S": json.dumps(message)}})
    assert OutboxItem.get("OUTBOX#contract-shop#2", values["sk"], consistent_read=True).message == message


def test_a_lone_surrogate_is_stored_escaped_as_utf8_cannot_carry_it():
    detail = {"note": "half a pair: \ud83d"}
    stored = attribute_map(LedgerItem, {**ITEMS[2][1], "detail": detail})["detail"]["S"]
    assert stored == json.dumps(detail) and json.loads(stored) == detail


# -- the request's bytes, for odd values: Put items from values are json-equal to the models' own, key order included
_ODD_TEXT = st.text() | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2) \
    | st.sampled_from(["", "0", "Олена", "ї\u2028", "a" * 400, "😀"])
_JSON_NUMBER = st.integers() | st.integers(min_value=2 ** 63, max_value=10 ** 40) | st.floats()
# (a Decimal, which json.dumps refuses, one time in ten)
_ODD_NUMBER = st.sampled_from(range(10)).flatmap(lambda n: st.decimals() if n == 0 else
                                                 st.booleans() if n == 1 else _JSON_NUMBER)
_ODD_JSON = st.recursive(st.none() | st.booleans() | _JSON_NUMBER | _ODD_TEXT,
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ODD_TEXT, inner, max_size=3),
                         max_leaves=12)


def _odd_value(attribute) -> st.SearchStrategy:
    """Values of an attribute's own type, and some that are not: PynamoDB's serialisation writes or
    refuses them, and ours must do the same."""
    if isinstance(attribute, JSONAttribute):
        return _ODD_JSON | st.just({}) | st.just([])
    if isinstance(attribute, NumberAttribute):
        return _ODD_NUMBER
    if isinstance(attribute, BooleanAttribute):
        return st.booleans() | st.integers(-1, 2) | st.just("")
    if isinstance(attribute, UnicodeSetAttribute):
        return st.sets(_ODD_TEXT.filter(bool), max_size=3)
    if isinstance(attribute, NumberSetAttribute):
        return st.sets(st.integers() | st.floats(allow_nan=False), max_size=3)
    return _ODD_TEXT


@st.composite
def _odd_values(draw, model_class: type) -> dict:
    values = {}
    for name, attribute in model_class.get_attributes().items():
        if isinstance(attribute, (VersionAttribute, DiscriminatorAttribute)):
            continue
        given = draw(st.sampled_from(["value"] * 12 + ["none", "absent"]))
        if given != "absent":
            values[name] = None if given == "none" else draw(_odd_value(attribute))
    return dict(draw(st.permutations(list(values.items()))))  # any order given: the item's is the class's


def _outcome(make):
    try:
        return json.dumps(make())  # the request's bytes, key order included
    except Exception as error:  # noqa: BLE001 - refused alike, with the same error
        return type(error), str(error)


@settings(max_examples=examples(300), deadline=None)
@given(st.data())
def test_a_put_from_odd_values_is_byte_equal_to_the_models_own_save_or_refused_alike(data):
    model_class = data.draw(st.sampled_from([EventItem, LedgerItem, LotItem, OutboxItem, PlatformCustomerItem,
                                             PurchaseItem]))
    values = data.draw(_odd_values(model_class))
    condition = data.draw(st.sampled_from([None, model_class.pk.does_not_exist()]))
    assert _outcome(lambda: put_kwargs(model_class, values, condition)) == \
        _outcome(lambda: model_class(**values).get_save_kwargs_from_instance(condition=condition))


@settings(max_examples=examples(300), deadline=None)
@given(st.data())
def test_a_versioned_put_from_odd_values_is_byte_equal_to_the_models_own_save_or_refused_alike(data):
    model_class = data.draw(st.sampled_from([ProfileItem, OrderItem, CodeItem]))
    values = data.draw(_odd_values(model_class))
    version = data.draw(st.sampled_from([0, 1, 7, 2 ** 40]))
    assert _outcome(lambda: put_over_version_kwargs(model_class, values, version)) == \
        _outcome(lambda: over_version(model_class(**values), version).get_save_kwargs_from_instance())
