"""Reading everything stored about one customer, or one shop, and deleting it in batches.

Nothing here scans the table. A customer's items are found from their partition
(``CUST#{shop}#{customer}``: profile, lots, ledger, preferences, last click,
membership, reviews, referral counts) and from what those items name: the orders
and codes in the ledger, the send logs in the customer's sends index (``SENDS#…``
in ``by_due_day``), the clicks and SES message ids of those sends, the platform ids
on the profile. A shop's items are found from its partition, its customer
directory (``by_shop``) and its sharded partitions (outbox, dashboard).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator, Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.customer_sends import customer_send_items
from chalicelib.store.models import (
    CodeItem,
    DataRequestItem,
    EventItem,
    Item,
    LedgerItem,
    MailSendItem,
    OfferItem,
    OrderItem,
    ProfileItem,
    PurchaseItem,
    RedactedOrderItem,
    ShopErasureItem,
    SuppressionItem,
    over_version,
)


class ProfileChanged(Exception):
    """The profile changed (or went) since it was read: look again."""


Key = tuple[str, str]


@dataclass
class CustomerItems:
    """Every item found for one customer, as stored."""

    partition: list[Item] = field(default_factory=list)
    sends: list[MailSendItem] = field(default_factory=list)
    linked: list[Item] = field(default_factory=list)  # orders, codes, clicks, referrals, withdrawals, …

    @property
    def profile(self) -> Optional[ProfileItem]:
        return next((item for item in self.partition if isinstance(item, ProfileItem)), None)

    def keys(self) -> list[Key]:
        return [(item.pk, item.sk) for item in (*self.partition, *self.sends, *self.linked)]


class PrivacyStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    # -- reading --------------------------------------------------------------------
    def customer_items(self, customer_id: str, order_ids: Iterable[str] = (), *,
                       whole_shop: bool = False) -> CustomerItems:
        """The customer's partition, their sends, and the items outside the partition that
        their ledger, profile and sends name (plus ``order_ids``' records)."""
        found = CustomerItems(partition=list(Item.query(keys.customer_pk(self.shop_id, customer_id),
                                                        consistent_read=True)))
        found.sends = customer_send_items(self.shop_id, customer_id)
        names = linked_names(found.partition, customer_id)
        order_ids = set(order_ids) | names.orders
        wanted: list[Key] = [(keys.order_pk(self.shop_id, o), keys.ORDER_SK) for o in sorted(order_ids)]
        wanted += [(keys.purchases_pk(self.shop_id), keys.purchase_sk(o)) for o in sorted(order_ids)]
        wanted += [(keys.code_pk(self.shop_id, c), keys.CODE_SK) for c in sorted(names.codes)]
        wanted += [(keys.withdrawal_pk(self.shop_id, w), keys.WITHDRAWAL_SK) for w in sorted(names.withdrawals)]
        wanted += [(keys.platform_customer_pk(self.shop_id, p), keys.PLATFORM_CUSTOMER_SK)
                   for p in sorted(names.platform_ids)]
        wanted.append((keys.referral_pk(self.shop_id, customer_id), keys.REFERRAL_SK))
        # Sends written before the sends index existed: the keys that name this customer or their orders.
        send_keys = {send.idempotency_key for send in found.sends}
        named_sends = {f"post_purchase:{o}" for o in order_ids}
        guessed = named_sends | {f"welcome:{customer_id}",
                                                                f"referral_reward:{customer_id}"}
        wanted += [(keys.send_log_pk(self.shop_id, k), keys.SEND_LOG_SK) for k in sorted(guessed - send_keys)]
        linked = self.get_many(wanted)
        # A post-purchase mail of an order named for erasure goes too, whoever it went to.
        found.sends += [item for item in linked if isinstance(item, MailSendItem)
                        and (item.customer_id == customer_id or item.idempotency_key in named_sends)]
        found.linked = [item for item in linked if not isinstance(item, MailSendItem) and _belongs(item, customer_id)]
        found.linked += self._what_sends_name(found.sends)
        if not whole_shop:  # a shop's erasure deletes its outbox and data requests whole
            found.linked += self.outbox_items(customer_id, named_sends, order_ids)
            found.linked += [item for item in self.data_requests() if customer_id in _requested_ids(item)]
        return found

    def customer_items_without_customer(self, order_ids: Iterable[str]) -> CustomerItems:
        """Orders named for erasure whose customer we do not know: their records, post-purchase
        sends, the clicks and SES ids of those."""
        order_ids = sorted(set(order_ids))
        found = CustomerItems()
        linked = self.get_many([(keys.order_pk(self.shop_id, o), keys.ORDER_SK) for o in order_ids]
                               + [(keys.purchases_pk(self.shop_id), keys.purchase_sk(o)) for o in order_ids]
                               + [(keys.send_log_pk(self.shop_id, f"post_purchase:{o}"), keys.SEND_LOG_SK)
                                  for o in order_ids])
        found.sends = [item for item in linked if isinstance(item, MailSendItem)]
        found.linked = [item for item in linked if not isinstance(item, MailSendItem)]
        found.linked += self._what_sends_name(found.sends)
        found.linked += self.outbox_items(None, {f"post_purchase:{o}" for o in order_ids}, order_ids)
        return found

    def outbox_items(self, customer_id: Optional[str], send_keys: set[str], order_ids: Iterable[str] = ()) -> list[Item]:
        """E-mails still owed (their outbox items hold the message): the customer's, these sends',
        or the tier mails of these orders (``tier_upgrade:{customer}:{tier}:{order}``, their key
        names the order). The outbox holds only messages not yet handed to the sender, so each
        shard is small."""
        order_ids = set(order_ids)
        from chalicelib.store.models import OutboxItem

        owed = []
        for shard in range(keys.OUTBOX_SHARDS):
            for item in OutboxItem.query(keys.outbox_pk(self.shop_id, shard), consistent_read=True):
                message = item.message or {}
                key = message.get("idempotency_key") or ""
                if (customer_id and message.get("customer_id") == customer_id) or key in send_keys \
                        or (message.get("template") == "tier_upgrade" and key.rsplit(":", 1)[-1] in order_ids):
                    owed.append(item)
        return owed

    def _what_sends_name(self, sends: list[MailSendItem]) -> list[Item]:
        send_keys = sorted({send.idempotency_key for send in sends})
        return self.get_many([(keys.click_pk(self.shop_id, k), keys.CLICK_SK) for k in send_keys]
                             + [(keys.ses_message_pk(s.ses_message_id), keys.SES_MESSAGE_SK)
                                for s in sends if s.ses_message_id])

    def get_many(self, wanted: list[Key]) -> list[Item]:
        """The items that exist among ``wanted`` (BatchGetItem: PynamoDB asks 100 keys a request,
        each key once)."""
        return list(Item.batch_get(wanted, consistent_read=True))

    def suppression(self, email_hash: str) -> Optional[SuppressionItem]:
        try:
            return SuppressionItem.get(keys.suppression_pk(self.shop_id, email_hash), keys.SUPPRESSION_SK)
        except DoesNotExist:
            return None

    def data_requests(self) -> list[DataRequestItem]:
        return list(DataRequestItem.query(keys.shop_pk(self.shop_id),
                                          DataRequestItem.sk.startswith(keys.DATA_REQUEST_SK_PREFIX)))

    def data_request(self, request_id: str) -> Optional[DataRequestItem]:
        try:
            return DataRequestItem.get(keys.shop_pk(self.shop_id), keys.data_request_sk(request_id),
                                       consistent_read=True)
        except DoesNotExist:
            return None

    # -- writing --------------------------------------------------------------------
    def add_data_request(self, request_id: str, customer_id: str, received_at: datetime, state: dict) -> bool:
        """False when this request was recorded already (a redelivery)."""
        item = DataRequestItem(keys.shop_pk(self.shop_id), keys.data_request_sk(request_id), customer_id=customer_id,
                               received_at=keys.iso(received_at), state=state)
        try:
            item.save(condition=DataRequestItem.pk.does_not_exist())
        except Exception as error:  # PutError with a failed condition
            if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_orders_redacted(self, order_hashes: Iterable[str], now: datetime) -> None:
        """Keep the fact that these orders were erased (keyed hashes only), before anything goes."""
        with RedactedOrderItem.batch_write() as batch:
            for order_hash in sorted(set(order_hashes)):
                batch.save(RedactedOrderItem(keys.redacted_order_pk(self.shop_id, order_hash), keys.REDACTED_ORDER_SK,
                                             redacted_at=keys.iso(now)))

    def delete(self, doomed: Iterable[Key]) -> int:
        """Delete these items (BatchWriteItem, 25 a call). Returns how many were asked for."""
        doomed = list(dict.fromkeys(doomed))
        with Item.batch_write() as batch:
            for pk, sk in doomed:
                batch.delete(Item(pk, sk))
        return len(doomed)

    def delete_profile(self, customer_id: str, version: int, event_id: Optional[str], topic: str,
                       now: datetime) -> None:
        """The erased profile goes last, only as the erasure left it (redacted, same version), with the
        webhook's event record: a concurrent writer makes it fail and the erasure look again."""
        from chalicelib.store.loyalty.repository import EVENT_RECORD_DAYS

        try:
            with TransactWrite(connection=connection()) as write:
                write.delete(over_version(ProfileItem(keys.customer_pk(self.shop_id, customer_id), keys.PROFILE_SK),
                                          version),
                             condition=ProfileItem.redacted == True)  # noqa: E712
                if event_id:
                    write.save(EventItem(keys.event_pk(self.shop_id, event_id), keys.EVENT_SK, topic=topic or None,
                                         received_at=keys.iso(now),
                                         ttl=int(now.timestamp()) + EVENT_RECORD_DAYS * 86400),
                               condition=EventItem.pk.does_not_exist())
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise ProfileChanged(customer_id) from error
            raise

    def record_event(self, event_id: str, topic: str, now: datetime) -> None:
        from chalicelib.store.loyalty.repository import EVENT_RECORD_DAYS

        EventItem(keys.event_pk(self.shop_id, event_id), keys.EVENT_SK, topic=topic or None,
                  received_at=keys.iso(now), ttl=int(now.timestamp()) + EVENT_RECORD_DAYS * 86400).save()

    # -- a whole shop ------------------------------------------------------------------
    def directory_page(self, shard: int, limit: int) -> list[str]:
        """Customer ids from one shard of the shop's directory (index by_shop): the first ``limit``."""
        result = ProfileItem.by_shop.query(keys.shop_customers_pk(self.shop_id, shard), limit=limit, page_size=limit)
        return [item.customer_id for item in result]

    def shop_partition_keys(self, limit: int) -> list[Key]:
        return _keys_of(keys.shop_pk(self.shop_id), limit)

    def sharded_keys(self, limit: int) -> list[Key]:
        """Outbox and dashboard items: one Query per shard."""
        found: list[Key] = []
        for shard in range(keys.OUTBOX_SHARDS):
            found += _keys_of(keys.outbox_pk(self.shop_id, shard), limit - len(found))
        for shard in range(keys.DASHBOARD_SHARDS):
            found += _keys_of(keys.dashboard_pk(self.shop_id, shard), limit - len(found))
        # The catalog and the purchases (what is left of them once the customers went).
        for pk in (keys.products_pk(self.shop_id), keys.purchases_pk(self.shop_id)):
            found += _keys_of(pk, limit - len(found))
        return found

    def results_keys(self, subjects: Iterable[str], limit: int) -> list[Key]:
        found: list[Key] = []
        for subject in subjects:
            found += _keys_of(keys.results_pk(self.shop_id, subject), limit - len(found))
        return found

    def withdrawal_keys(self, limit: int) -> list[Key]:
        found: list[Key] = []
        for status in ("pending", "confirmed", "rejected"):
            if len(found) >= limit:
                break
            response = connection().client.query(
                TableName=Item.Meta.table_name, IndexName="by_due_day", KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.withdrawals_pk(self.shop_id, status)}},
                Limit=limit - len(found))
            found += [(row["pk"]["S"], row["sk"]["S"]) for row in response["Items"]]
        return found


def erasure_work() -> list[ShopErasureItem]:
    """Shops whose erasure is not finished (one Query on the work list)."""
    return [item for item in ShopErasureItem.query(keys.SHOP_ERASURES_PK, consistent_read=True)
            if item.status != "done"]


def erasure_of(shop_id: str) -> Optional[ShopErasureItem]:
    try:
        return ShopErasureItem.get(keys.SHOP_ERASURES_PK, shop_id, consistent_read=True)
    except DoesNotExist:
        return None


def _keys_of(pk: str, limit: int) -> list[Key]:
    """Up to ``limit`` keys of one partition. Low-level: counters are written without a model."""
    if limit <= 0:
        return []
    response = connection().client.query(
        TableName=Item.Meta.table_name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
            ":pk": {"S": pk}}, ProjectionExpression="pk, sk", Limit=limit, ConsistentRead=True)
    return [(row["pk"]["S"], row["sk"]["S"]) for row in response["Items"]]


@dataclass
class LinkedNames:
    orders: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    withdrawals: set[str] = field(default_factory=set)
    platform_ids: set[str] = field(default_factory=set)


def linked_names(partition: list[Item], customer_id: str) -> LinkedNames:
    """The orders, codes, withdrawals and platform ids a customer's own items name."""
    names = LinkedNames()
    for item in partition:
        if isinstance(item, LedgerItem):
            for text in (item.cause, *_detail_values(item.detail or {})):
                kind, _, name = str(text).partition(":")
                if kind in ("order", "cancel", "deleted") and name:
                    names.orders.add(name)
                elif kind in ("code", "cashcode") and name:
                    names.codes.add(name.split(":")[0])
                elif kind == "withdrawal" and name:
                    names.withdrawals.add(name)
            detail = item.detail or {}
            if isinstance(detail.get("code"), str):
                names.codes.add(detail["code"])
            if isinstance(detail.get("order_id"), (str, int)):
                names.orders.add(str(detail["order_id"]))
        elif isinstance(item, ProfileItem):
            names.platform_ids |= set(item.platform_customer_ids or ())
            state = item.program_state or {}
            for code in (state.get("referral_code"), state.get("member_shipping_code")):
                if code:
                    names.codes.add(code)
            names.orders |= set((state.get("member_orders") or {}).keys())
        elif isinstance(item, OfferItem):  # a personal offer names its code
            names.codes.add(item.code)
    return names


def _detail_values(detail: dict) -> Iterator[str]:
    for value in detail.values():
        if isinstance(value, str):
            yield value


def _requested_ids(item: DataRequestItem) -> set[str]:
    return {item.customer_id, *(item.state or {}).get("customer_ids", ())}


def _belongs(item: Item, customer_id: str) -> bool:
    """Whether a linked item is this customer's: a shared campaign code is not erased with them."""
    owner = getattr(item, "customer_id", None)
    if isinstance(item, CodeItem):
        return owner == customer_id
    if isinstance(item, (OrderItem, PurchaseItem)):  # named by the customer's ledger, or by the shop's list to redact
        return True
    return owner in (None, customer_id)
