"""Loads domain objects from the table and commits changes atomically.

Every change to loyalty state is one ``TransactWriteItems``: the account's
profile (conditioned on its version), its lots and ledger entries, the order
record (conditioned on its version), the webhook's event record (conditioned on
not existing) and any reward codes. Either all of it lands or none of it does.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactGet

from chalicelib.domain.loyalty.account import Account, LedgerEntry, Lot
from chalicelib.domain.loyalty.codes import RETURNABLE, RewardCode
from chalicelib.domain.loyalty.dashboard import counts_by_day
from chalicelib.domain.campaigns.lift import CampaignGroup
from chalicelib.domain.campaigns.links import Click
from chalicelib.domain.loyalty.order_record import EarnedLine, OrderRecord
from chalicelib.domain.loyalty import tier_window
from chalicelib.domain.platform_events import Refund, RefundLine
from chalicelib.store import counters, keys
from chalicelib.store.connection import (connection, keys_only_index_rows, lean_connection,
                                         partition_range_raw_items, resolve)
from chalicelib.store.raw_items import item_values
from chalicelib.store.counters import CounterAddition
from chalicelib.store.loyalty.dashboard import dashboard_update
from chalicelib.store.transaction import PreparedCondition, Transaction, TransactRead, ValuesPut
from chalicelib.store.models import (
    CampaignGroupItem,
    CodeItem,
    EventItem,
    Item,
    LastClickItem,
    LedgerItem,
    LotItem,
    MembershipItem,
    OrderItem,
    OutboxItem,
    PlatformCustomerItem,
    ProfileItem,
    RedactedOrderItem,
    stored_version,
)

EVENT_RECORD_DAYS = 30
# A webhook's event record and a ledger entry are written once only: the same condition for every
# item of their kind, serialised once (store/transaction.py).
_EVENT_IS_NEW = PreparedCondition(EventItem.pk.does_not_exist())
_ENTRY_IS_NEW = PreparedCondition(LedgerItem.pk.does_not_exist())


class ConcurrentChange(Exception):
    """Another writer changed the same records first: reload and decide again."""


class DuplicateEvent(Exception):
    """The webhook's event id was already committed."""


@dataclass
class Change:
    account: Optional[Account] = None
    order: Optional[OrderRecord] = None
    event_id: Optional[str] = None
    event_topic: str = ""
    codes: list[RewardCode] = field(default_factory=list)
    # Queue messages owed because of this change (see chalicelib.domain.mail.outbox).
    outbox: list[dict] = field(default_factory=list)
    # Results counters the change adds to (store.campaigns.results.counter_update).
    counters: list[CounterAddition] = field(default_factory=list)
    # An event record that must outlive the 30-day housekeeping TTL (a once-ever marker).
    keep_event: bool = False
    # Other items of the change, each (item, condition or None) or a ValuesPut: a referral, a review
    # bonus, a withdrawal (chalicelib.store.loyalty.program_store builds them), a purchase.
    items: list[tuple] = field(default_factory=list)


@dataclass
class OrderContext:
    order: Optional[OrderRecord]
    account: Optional[Account]
    codes: list[RewardCode]
    event_seen: bool
    last_click: Optional[Click] = None
    order_redacted: bool = False
    campaign_group: Optional[CampaignGroup] = None  # the customer's group in the latest holdout campaign


@dataclass(frozen=True)
class DueLot:
    customer_id: str
    expires_at: datetime
    points: int
    warned: frozenset[int] = frozenset()


@dataclass
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: Optional[str]


class LoyaltyRepository:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    # -- reads ----------------------------------------------------------------
    def load_for_order(self, order_id: str, customer_id: Optional[str], codes: Iterable[str] = (),
                       event_id: Optional[str] = None, redacted_hash: Optional[str] = None,
                       attribution: bool = True) -> "OrderContext":
        """The order record, the customer's profile, the webhook's event record,
        any of our codes the order carries and (``redacted_hash``) the mark of an
        erased order: one strongly consistent TransactGetItems. ``attribution``: also the
        customer's last click and campaign group, which only an order paid now is counted
        towards (each costs 2 read units in the transaction, found or not)."""
        codes = list(codes)
        # The items as their values (TransactRead): each mapped once, into the use case's records; the
        # request on the lean path (store/lean_requests.py: anything but a plain 200 goes to botocore).
        with TransactRead(lean_connection()) as read:
            redacted_at = (read.get(RedactedOrderItem, keys.redacted_order_pk(self.shop_id, redacted_hash),
                                    keys.REDACTED_ORDER_SK) if redacted_hash else None)
            order_at = read.get(OrderItem, keys.order_pk(self.shop_id, order_id), keys.ORDER_SK)
            profile_at = (read.get(ProfileItem, keys.customer_pk(self.shop_id, customer_id), keys.PROFILE_SK)
                          if customer_id else None)
            event_at = read.get(EventItem, keys.event_pk(self.shop_id, event_id), keys.EVENT_SK) if event_id else None
            codes_at = [read.get(CodeItem, keys.code_pk(self.shop_id, code), keys.CODE_SK) for code in codes]
            click_at = (read.get(LastClickItem, keys.customer_pk(self.shop_id, customer_id), keys.LAST_CLICK_SK)
                        if customer_id and attribution else None)
            group_at = (read.get(CampaignGroupItem, keys.customer_pk(self.shop_id, customer_id),
                                 keys.CAMPAIGN_GROUP_SK) if customer_id and attribution else None)
        order = read.item(order_at)
        profile = read.item(profile_at)
        click = read.item(click_at)
        group = read.item(group_at)
        return OrderContext(
            campaign_group=CampaignGroup(customer_id, group.campaign_id, group.group, keys.parse_iso(group.assigned_at),
                                         int(group.orders or 0), int(group.revenue_minor or 0),
                                         int(group.variant) if group.variant is not None else None) if group else None,
            order=_order_from_item(order) if order else None,
            account=_account_from_items(profile, None) if profile else None,
            codes=[_code_from_item(item) for item in map(read.item, codes_at) if item is not None],
            event_seen=read.item(event_at) is not None,
            order_redacted=read.item(redacted_at) is not None,
            last_click=Click(click.subject, click.send_key, keys.parse_iso(click.clicked_at)) if click else None)

    def order_redacted(self, redacted_hash: str) -> bool:
        """Whether the order with this keyed hash was erased (customers/redact)."""
        try:
            RedactedOrderItem.get(keys.redacted_order_pk(self.shop_id, redacted_hash), keys.REDACTED_ORDER_SK,
                                  consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def event_seen(self, event_id: str) -> bool:
        try:
            EventItem.get(keys.event_pk(self.shop_id, event_id), keys.EVENT_SK, consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def load_profile_and_marker(self, customer_id: str, event_id: str) -> tuple[Optional[Account], bool]:
        """A profile (without lots) and whether an event record exists: one TransactGetItems."""
        with TransactGet(connection=connection()) as get:
            profile_future = get.get(ProfileItem, keys.customer_pk(self.shop_id, customer_id), keys.PROFILE_SK)
            event_future = get.get(EventItem, keys.event_pk(self.shop_id, event_id), keys.EVENT_SK)
        profile = resolve(profile_future)
        return (_account_from_items(profile, None) if profile else None), resolve(event_future) is not None

    def load_profile(self, customer_id: str) -> Optional[Account]:
        """The account without its lots (enough for facts and earning)."""
        try:
            item = ProfileItem.get(keys.customer_pk(self.shop_id, customer_id), keys.PROFILE_SK,
                                   consistent_read=True)
        except DoesNotExist:
            return None
        return _account_from_items(item, None)

    def load_order(self, order_id: str) -> Optional[OrderRecord]:
        try:
            item = OrderItem.get(keys.order_pk(self.shop_id, order_id), keys.ORDER_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _order_from_item(item)

    def load_account(self, customer_id: str) -> Optional[Account]:
        """Profile and every live lot in one Query (lots sort right after the profile)."""
        profile, lots = None, []
        for item in Item.query(keys.customer_pk(self.shop_id, customer_id), Item.sk.startswith(keys.PROFILE_SK),
                               consistent_read=True):
            if isinstance(item, ProfileItem):
                profile = item
            elif isinstance(item, LotItem):
                lots.append(item)
        return _account_from_items(profile, lots) if profile else None

    def load_account_for_send(self, customer_id: str) -> tuple[Optional[Account], Optional[Item]]:
        """The account and the customer's mail preferences item (or None) in one Query: the sort keys
        from ``MAILPREF`` to the last lot hold the preferences, the membership, the profile and its
        lots, and nothing else of the partition (the ledger sorts before, referrals after). The profile
        and lots are read as DynamoDB JSON straight into the account (``store/raw_items.py``: the
        values their models would hold, without building the models); the preferences stay a model."""
        profile, lots, prefs = None, [], None
        for raw in partition_range_raw_items(keys.customer_pk(self.shop_id, customer_id), keys.MAIL_PREF_SK,
                                             keys.LOT_SK_PREFIX + "\uffff", consistent_read=True):
            kind = raw.get("type", {}).get("S")
            if kind == "profile":
                profile = item_values(ProfileItem, raw)
            elif kind == "lot":
                lots.append(item_values(LotItem, raw))
            elif raw["sk"]["S"] == keys.MAIL_PREF_SK:
                prefs = Item.from_raw_data(raw)
        return (_account_from_items(profile, lots) if profile else None), prefs

    def load_code(self, code: str) -> Optional[RewardCode]:
        try:
            return _code_from_item(CodeItem.get(keys.code_pk(self.shop_id, code), keys.CODE_SK, consistent_read=True))
        except DoesNotExist:
            return None

    def lots_expiring_on(self, days: Iterable[str]) -> Iterable["DueLot"]:
        """Lots whose expiry falls on one of ``days`` (one index Query per day)."""
        for day in days:
            for item in LotItem.by_due_day.query(keys.lot_expiry_day_pk(self.shop_id, day)):
                yield DueLot(item.customer_id, keys.parse_iso(item.expires_at), int(item.points),
                             frozenset(int(d) for d in item.warned or ()))

    def customers_due_tier_review(self, day: str) -> Iterable[str]:
        """Customers whose rolling tier is due a look on ``day`` (profiles in index by_due_day)."""
        for item in ProfileItem.by_due_day.query(keys.tier_review_pk(self.shop_id, day)):
            yield item.customer_id

    def customers_with_birthday(self, month_day: str) -> Iterable[str]:
        return _keys_only_index("by_birthday", "gsi2pk", keys.birthday_pk(self.shop_id, month_day), "gsi2sk")

    def customers_with_last_order_on(self, day: str) -> Iterable[str]:
        return _keys_only_index("by_last_order", "gsi3pk", keys.last_order_day_pk(self.shop_id, day), "gsi3sk")

    def customer_page(self, shard: int, cursor: Optional[str], limit: int) -> tuple[list[Account], Optional[str]]:
        """One page of the shop's customer directory (index ``by_shop``, one of
        ``keys.CUSTOMER_SHARDS`` partitions), in customer-id order: accounts
        built from the index items (lots None) and the cursor of the next page
        (None once the shard is read to its end). ``cursor`` is one this method
        returned for the same shard; anything else raises ``ValueError``."""
        if not 0 <= shard < keys.CUSTOMER_SHARDS:
            raise ValueError(f"shard must be 0..{keys.CUSTOMER_SHARDS - 1}")
        hash_key = keys.shop_customers_pk(self.shop_id, shard)
        start = None
        if cursor:
            customer_id = _decode_directory_cursor(cursor, shard)
            start = {"gsi4pk": {"S": hash_key}, "gsi4sk": {"S": customer_id},
                     "pk": {"S": keys.customer_pk(self.shop_id, customer_id)}, "sk": {"S": keys.PROFILE_SK}}
        result = ProfileItem.by_shop.query(hash_key, limit=limit, page_size=limit, last_evaluated_key=start)
        accounts = [_account_from_items(item, None) for item in result]
        last = result.last_evaluated_key
        return accounts, _encode_directory_cursor(shard, last["gsi4sk"]["S"]) if last else None

    def issued_codes_expiring_on(self, days: Iterable[str]) -> Iterable[RewardCode]:
        """Codes still issued whose expiry falls on one of ``days`` (index query per day)."""
        for day in days:
            for item in CodeItem.by_due_day.query(keys.code_expiry_day_pk(self.shop_id, day)):
                yield _code_from_item(item)

    def add_new_codes(self, codes: list[RewardCode]) -> None:
        """Freshly made codes (random, so no two writers make the same one): batched writes."""
        with CodeItem.batch_write() as batch:
            for code in codes:
                item = _code_item(code)
                item.version = 1
                batch.save(item)
        for code in codes:
            code.version = 1

    def customer_id_for_platform_id(self, platform_customer_id: str) -> Optional[str]:
        try:
            item = PlatformCustomerItem.get(keys.platform_customer_pk(self.shop_id, platform_customer_id),
                                            keys.PLATFORM_CUSTOMER_SK)
        except DoesNotExist:
            return None
        return item.customer_id

    def ledger_page(self, customer_id: str, limit: int, cursor: Optional[str]) -> LedgerPage:
        start = {"pk": {"S": keys.customer_pk(self.shop_id, customer_id)}, "sk": {"S": cursor}} if cursor else None
        result = LedgerItem.query(keys.customer_pk(self.shop_id, customer_id),
                                  LedgerItem.sk.startswith(keys.LEDGER_SK_PREFIX), scan_index_forward=False,
                                  limit=limit, last_evaluated_key=start, page_size=limit)
        entries = [_entry_from_item(item) for item in result]
        last = result.last_evaluated_key
        return LedgerPage(entries, last["sk"]["S"] if last else None)

    # -- the one write ------------------------------------------------------
    def commit(self, change: Change, now: datetime) -> None:
        try:
            # Unversioned items go as attribute values (Transaction.put: no model instance each);
            # the versioned ones (profile, order, codes) as models, with their version condition.
            with Transaction(connection()) as write:
                if change.event_id:
                    write.put(EventItem, {"pk": keys.event_pk(self.shop_id, change.event_id), "sk": keys.EVENT_SK,
                                          "topic": change.event_topic or None, "received_at": keys.iso(now),
                                          "ttl": None if change.keep_event
                                          else int((now + timedelta(days=EVENT_RECORD_DAYS)).timestamp())},
                              condition=_EVENT_IS_NEW)
                if change.account is not None:
                    self._write_account(write, change.account)
                if change.order is not None:
                    self._write_order(write, change.order)
                for code in change.codes:
                    self._write_code(write, code)
                for message in change.outbox:
                    write.put(OutboxItem, outbox_values(message, now))
                for entry in change.items:
                    if isinstance(entry, ValuesPut):
                        write.put(entry.model_class, entry.values, condition=entry.condition)
                    else:
                        item, condition = entry
                        write.save(item, condition=condition)
                for addition in change.counters:
                    counters.add_in(write, addition)
                if change.account is not None:
                    # an order's counts on its paid day (imported history on its own dates)
                    for day, counts in sorted(counts_by_day(change.account, now).items()):
                        counters.add_in(write, dashboard_update(self.shop_id, day, counts,
                                                                change.account.customer_id))
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise ConcurrentChange(str(error.cause_response_message)) from error
            raise
        self._mark_committed(change)

    def _write_account(self, write: Transaction, account: Account) -> None:
        pk = keys.customer_pk(self.shop_id, account.customer_id)
        write.put_over_version(ProfileItem, _profile_values(self.shop_id, account), account.version)
        for lot in account.saved_lots.values():
            write.put(LotItem, _lot_values(self.shop_id, account.customer_id, lot))
        for lot in account.removed_lots.values():
            write.delete(LotItem(pk, keys.lot_sk(lot.expires_at, lot.lot_id)))
        for sequence, entry in enumerate(account.new_entries):
            write.put(LedgerItem, {"pk": pk, "sk": keys.ledger_sk(entry.created_at, sequence, entry.entry_id),
                                   "entry_id": entry.entry_id, "entry_kind": entry.kind, "points": entry.points,
                                   "cashback_minor": entry.cashback_minor, "spend_minor": entry.spend_minor,
                                   "cause": entry.cause, "created_at": keys.iso(entry.created_at),
                                   "detail": entry.detail or None},
                      condition=_ENTRY_IS_NEW)
        if account.membership_changed:
            write.save(_membership_item(self.shop_id, account))
        for platform_id in sorted(account.new_platform_customer_ids):
            write.put(PlatformCustomerItem, {"pk": keys.platform_customer_pk(self.shop_id, platform_id),
                                             "sk": keys.PLATFORM_CUSTOMER_SK, "customer_id": account.customer_id})

    def _write_order(self, write: Transaction, order: OrderRecord) -> None:
        write.put_over_version(OrderItem, _order_values(self.shop_id, order), order.version)

    def _write_code(self, write: Transaction, code: RewardCode) -> None:
        write.put_over_version(CodeItem, _code_values(code), code.version)

    @staticmethod
    def _mark_committed(change: Change) -> None:
        if change.account is not None:
            account = change.account
            account.version += 1
            account.stored_tier_name, account.stored_last_order_at = account.tier_name, account.last_order_at
            account.new_entries.clear()
            account.saved_lots.clear()
            account.removed_lots.clear()
            account.new_platform_customer_ids.clear()
            account.membership_changed = False
        if change.order is not None:
            change.order.version += 1
        for code in change.codes:
            code.version += 1


def outbox_values(message: dict, now: datetime) -> dict:
    """The outbox item's attribute values; the message learns its item's key (``outbox_key``).
    The item stores the message without it: the key is the item's own, which its readers (the
    stream, the sweeper) give the message again, and 120-odd bytes less keep more post-purchase
    items under the 1 KB that one write unit buys (docs/benchmarks.md, "Fewer capacity units")."""
    key = message["idempotency_key"]
    pk, sk = keys.outbox_pk(message["shop_id"], keys.outbox_shard(key)), keys.outbox_sk(now, key)
    message.pop("outbox_key", None)
    stored = dict(message)
    message["outbox_key"] = {"pk": pk, "sk": sk}
    return {"pk": pk, "sk": sk, "message": stored, "created_at": keys.iso(now)}


def _keys_only_index(index: str, hash_attribute: str, value: str, sort_attribute: str) -> Iterable[str]:
    """Sort keys from a KEYS_ONLY index."""
    for row in keys_only_index_rows(index, hash_attribute, value):
        yield row[sort_attribute]["S"]


def _encode_directory_cursor(shard: int, customer_id: str) -> str:
    return base64.urlsafe_b64encode(f"{shard}:{customer_id}".encode()).decode().rstrip("=")


def _decode_directory_cursor(cursor: str, shard: int) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_shard, customer_id = text.split(":", 1)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a directory cursor") from None
    if cursor_shard != str(shard) or not customer_id or len(customer_id) > 200:
        raise ValueError("the cursor belongs to another shard")
    return customer_id


# -- mapping: profile and lots ---------------------------------------------------
def _profile_item(shop_id: str, account: Account) -> ProfileItem:
    return ProfileItem(**_profile_values(shop_id, account))


def _profile_values(shop_id: str, account: Account) -> dict:
    """The profile item's values (python attribute names; no version: the transaction adds it)."""
    values = dict(
        pk=keys.customer_pk(shop_id, account.customer_id), sk=keys.PROFILE_SK,
        customer_id=account.customer_id, created_at=keys.iso(account.created_at),
        email=account.email, first_name=account.first_name, last_name=account.last_name, locale=account.locale,
        timezone=account.timezone, marketing_consent=account.marketing_consent,
        birthday=account.birthday.isoformat() if account.birthday else None,
        platform_customer_ids=set(account.platform_customer_ids) or None,
        facts_updated_at=keys.iso(account.facts_updated_at) if account.facts_updated_at else None,
        redacted=account.redacted, points_balance=account.points_balance, points_debt=account.points_debt,
        cashback_minor=account.cashback_minor, lifetime_spend_minor=account.lifetime_spend_minor,
        spend_by_day=_spend_days_json(account.spend_by_day), orders_count=account.orders_count,
        last_order_at=keys.iso(account.last_order_at) if account.last_order_at else None,
        birthday_bonus_year=account.birthday_bonus_year,
        winback_for_order_at=keys.iso(account.winback_for_order_at) if account.winback_for_order_at else None,
        tier_name=account.tier_name, discount_percent=account.discount_percent,
        tier_review_on=account.tier_review_on.isoformat() if account.tier_review_on else None,
        tier_risk_warned_for=account.tier_risk_warned_for,
        bought_skus=set(account.bought_skus) or None, bought_categories=set(account.bought_categories) or None,
        program_state=_program_state(account),
        member_until=keys.iso(account.member_until) if account.member_until else None,
        # The shop's customer directory (segments): every profile, redacted ones too.
        gsi4pk=keys.shop_customers_pk(shop_id, keys.customer_shard(account.customer_id)),
        gsi4sk=account.customer_id,
    )
    if account.birthday and not account.redacted:
        values["gsi2pk"] = keys.birthday_pk(shop_id, account.birthday.strftime("%m-%d"))
        values["gsi2sk"] = account.customer_id
    if account.last_order_at:
        values["gsi3pk"] = keys.last_order_day_pk(shop_id, account.last_order_at.date().isoformat())
        values["gsi3sk"] = account.customer_id
    if account.tier_review_on:
        values["gsi1pk"] = keys.tier_review_pk(shop_id, account.tier_review_on.isoformat())
        values["gsi1sk"] = account.customer_id
    return values


def _program_state(account: Account) -> Optional[dict]:
    state = {
        "referral_code": account.referral_code, "referred_by": account.referred_by,
        "address_keys": sorted(account.address_keys)[-5:] or None,
        "signup_bonus_given": account.signup_bonus_given or None, "reviews_count": account.reviews_count or None,
        "achievements": sorted(account.achievements) or None, "member_orders": account.member_orders or None,
        "member_shipping_code": account.member_shipping_code, "member_reminded_for": account.member_reminded_for,
        "member_plan": account.member_plan,
        "member_remind_on": account.member_remind_on.isoformat() if account.member_remind_on else None,
        "converted_subjects": sorted(account.converted_subjects) or None,
    }
    return {k: v for k, v in state.items() if v is not None} or None


def _program_fields(state: dict) -> dict:
    return {"referral_code": state.get("referral_code"), "referred_by": state.get("referred_by"),
            "address_keys": set(state.get("address_keys") or ()),
            "signup_bonus_given": bool(state.get("signup_bonus_given")),
            "reviews_count": int(state.get("reviews_count") or 0), "achievements": set(state.get("achievements") or ()),
            "member_orders": dict(state.get("member_orders") or {}),
            "member_shipping_code": state.get("member_shipping_code"),
            "member_plan": state.get("member_plan"),
            "member_reminded_for": state.get("member_reminded_for"),
            "member_remind_on": date.fromisoformat(state["member_remind_on"]) if state.get("member_remind_on") else None,
            "converted_subjects": set(state.get("converted_subjects") or ())}


def _membership_item(shop_id: str, account: Account) -> MembershipItem:
    """The member's reminder row, indexed under the reminder's day until it is sent."""
    item = MembershipItem(keys.customer_pk(shop_id, account.customer_id), keys.MEMBERSHIP_SK,
                          customer_id=account.customer_id,
                          member_until=keys.iso(account.member_until) if account.member_until else "")
    if account.member_remind_on is not None and not account.redacted:
        item.gsi1pk = keys.membership_due_pk(shop_id, account.member_remind_on.isoformat())
        item.gsi1sk = account.customer_id
    return item


def _lot_item(shop_id: str, customer_id: str, lot: Lot) -> LotItem:
    return LotItem(**_lot_values(shop_id, customer_id, lot))


def _lot_values(shop_id: str, customer_id: str, lot: Lot) -> dict:
    expires_at = keys.iso(lot.expires_at)
    return {"pk": keys.customer_pk(shop_id, customer_id), "sk": keys.lot_sk(lot.expires_at, lot.lot_id),
            "lot_id": lot.lot_id, "points": lot.points, "earned_at": keys.iso(lot.earned_at),
            "expires_at": expires_at, "source": lot.source, "customer_id": customer_id,
            "warned": set(lot.warned) or None,
            "gsi1pk": keys.lot_expiry_day_pk(shop_id, expires_at[:10]), "gsi1sk": customer_id}


def _account_from_items(profile: ProfileItem, lots: Optional[list[LotItem]]) -> Account:
    return Account(
        shop_id=profile.pk.split("#")[1], customer_id=profile.customer_id,
        created_at=keys.parse_iso(profile.created_at), email=profile.email, first_name=profile.first_name,
        last_name=profile.last_name, locale=profile.locale, marketing_consent=profile.marketing_consent,
        timezone=profile.timezone,
        birthday=date.fromisoformat(profile.birthday) if profile.birthday else None,
        platform_customer_ids=set(profile.platform_customer_ids or ()),
        facts_updated_at=keys.parse_iso(profile.facts_updated_at) if profile.facts_updated_at else None,
        redacted=bool(profile.redacted), points_balance=int(profile.points_balance),
        points_debt=int(profile.points_debt), cashback_minor=int(profile.cashback_minor),
        lifetime_spend_minor=int(profile.lifetime_spend_minor),
        spend_by_day=_spend_days(profile),
        orders_count=int(profile.orders_count),
        last_order_at=keys.parse_iso(profile.last_order_at) if profile.last_order_at else None,
        birthday_bonus_year=int(profile.birthday_bonus_year) if profile.birthday_bonus_year is not None else None,
        winback_for_order_at=keys.parse_iso(profile.winback_for_order_at) if profile.winback_for_order_at else None,
        tier_name=profile.tier_name, discount_percent=profile.discount_percent, version=stored_version(profile),
        stored_tier_name=profile.tier_name,
        stored_last_order_at=keys.parse_iso(profile.last_order_at) if profile.last_order_at else None,
        tier_review_on=date.fromisoformat(profile.tier_review_on) if profile.tier_review_on else None,
        tier_risk_warned_for=profile.tier_risk_warned_for,
        bought_skus=set(profile.bought_skus or ()), bought_categories=set(profile.bought_categories or ()),
        member_until=keys.parse_iso(profile.member_until) if profile.member_until else None,
        **_program_fields(profile.program_state or {}),
        lots=None if lots is None else [
            Lot(lot.lot_id, int(lot.points), keys.parse_iso(lot.earned_at), keys.parse_iso(lot.expires_at),
                lot.source, frozenset(int(d) for d in lot.warned or ())) for lot in lots],
    )


def _spend_days_json(spend_by_day: dict[date, int]) -> Optional[dict]:
    return {day.isoformat(): minor for day, minor in sorted(spend_by_day.items())} or None


def _spend_days(profile: ProfileItem) -> dict[date, int]:
    """The day buckets, with an older profile's month buckets moved onto days (kept tier and drop day)."""
    days = ((date.fromisoformat(day), minor) for day, minor in (profile.spend_by_day or {}).items())
    months = tier_window.days_from_months(profile.spend_by_month or {}).items()
    return tier_window.merged(days, months)


def _entry_from_item(item: LedgerItem) -> LedgerEntry:
    return LedgerEntry(entry_id=item.entry_id, kind=item.entry_kind, points=int(item.points),
                       cashback_minor=int(item.cashback_minor), spend_minor=int(item.spend_minor),
                       cause=item.cause, created_at=keys.parse_iso(item.created_at), detail=item.detail or {})


# -- mapping: orders ---------------------------------------------------------------
def _order_values(shop_id: str, order: OrderRecord) -> dict:
    """The order item's values (no version: the transaction adds it)."""
    state = {
        "name": order.name,
        "lines": [vars(line) for line in order.lines],
        "applied_refunds": sorted(order.applied_refunds),
        "pending_refunds": [_refund_to_json(r) for r in order.pending_refunds],
        "paid_at": keys.iso(order.paid_at) if order.paid_at else None,
        "spend_day": order.spend_day.isoformat() if order.spend_day else None,
        "lot_id": order.lot_id,
        "counted": order.counted,
        "consumed_codes": order.consumed_codes,
        "refused_codes": order.refused_codes or None,
        "attribution": order.attribution,
        "goods_net_minor": order.goods_net_minor,
        "goods_tax_minor": order.goods_tax_minor,
    }
    return {"pk": keys.order_pk(shop_id, order.order_id), "sk": keys.ORDER_SK, "customer_id": order.customer_id,
            "status": order.status, "state": state}


def _order_from_item(item: OrderItem) -> OrderRecord:
    state = item.state
    _, shop_id, order_id = item.pk.split("#", 2)
    return OrderRecord(
        shop_id=shop_id, order_id=order_id, customer_id=item.customer_id, status=item.status,
        name=state.get("name", ""), lines=[EarnedLine(**line) for line in state.get("lines", [])],
        applied_refunds=set(state.get("applied_refunds", [])),
        pending_refunds=[_refund_from_json(r) for r in state.get("pending_refunds", [])],
        paid_at=keys.parse_iso(state["paid_at"]) if state.get("paid_at") else None,
        spend_day=_order_spend_day(state), lot_id=state.get("lot_id"), counted=state.get("counted", False),
        consumed_codes=list(state.get("consumed_codes", [])), refused_codes=dict(state.get("refused_codes") or {}),
        attribution=state.get("attribution"), goods_net_minor=state.get("goods_net_minor", 0),
        goods_tax_minor=state.get("goods_tax_minor"), version=stored_version(item))


def _order_spend_day(state: dict) -> Optional[date]:
    if state.get("spend_day"):
        return date.fromisoformat(state["spend_day"])
    # Recorded before day counting: its spend sits on its month's day (tier_window.days_from_months).
    return tier_window.legacy_month_day(state["spend_month"]) if state.get("spend_month") else None


def _refund_to_json(refund: Refund) -> dict:
    return {"refund_id": refund.refund_id, "order_id": refund.order_id, "amount_minor": refund.amount_minor,
            "amount_with_tax": refund.amount_with_tax, "lines": [vars(line) for line in refund.lines]}


def _refund_from_json(data: dict) -> Refund:
    return Refund(refund_id=data["refund_id"], order_id=data["order_id"], amount_minor=data.get("amount_minor", 0),
                  amount_with_tax=data.get("amount_with_tax", False),
                  lines=tuple(RefundLine(**line) for line in data.get("lines", [])))


# -- mapping: codes ------------------------------------------------------------------
def _code_item(code: RewardCode) -> CodeItem:
    return CodeItem(**_code_values(code))


def _code_values(code: RewardCode) -> dict:
    """The code item's values (no version: the transaction adds it)."""
    state = {
        "value_minor": code.value_minor, "points": code.points, "created_at": keys.iso(code.created_at),
        "portions": [{"lot_id": p.lot_id, "points": p.points, "earned_at": keys.iso(p.earned_at),
                      "expires_at": keys.iso(p.expires_at), "source": p.source} for p in code.portions],
        "consumed_by_order": code.consumed_by_order,
        "consumed_at": keys.iso(code.consumed_at) if code.consumed_at else None,
        "starts_at": keys.iso(code.starts_at) if code.starts_at else None,
        "discount_percent": code.discount_percent, "free_shipping": code.free_shipping, "shared": code.shared,
        "uses": code.uses, "campaign_id": code.campaign_id, "subject": code.subject,
        "min_order_minor": code.min_order_minor, "max_uses": code.max_uses,
    }
    # Only a catalog reward's or an offer's code carries these (older items stay as they were).
    if code.product_skus:
        state["product_skus"] = list(code.product_skus)
    if code.free_product_sku:
        state["free_product_sku"] = code.free_product_sku
    if code.reward_id:
        state["reward_id"] = code.reward_id
    values = {"pk": keys.code_pk(code.shop_id, code.code), "sk": keys.CODE_SK, "code_kind": code.kind,
              "customer_id": code.customer_id, "status": code.status, "state": state,
              "expires_at": keys.iso(code.expires_at)}
    if code.status == "issued" and code.kind in RETURNABLE:  # only these may need giving back
        values["gsi1pk"] = keys.code_expiry_day_pk(code.shop_id, keys.iso(code.expires_at)[:10])
        values["gsi1sk"] = code.code
    return values


def _code_from_item(item: CodeItem) -> RewardCode:
    state = item.state
    _, shop_id, code = item.pk.split("#", 2)
    return RewardCode(
        code=code, shop_id=shop_id, kind=item.code_kind, customer_id=item.customer_id,
        value_minor=int(state["value_minor"]), points=int(state["points"]),
        created_at=keys.parse_iso(state["created_at"]), expires_at=keys.parse_iso(item.expires_at),
        status=item.status,
        portions=[Lot(p["lot_id"], int(p["points"]), keys.parse_iso(p["earned_at"]), keys.parse_iso(p["expires_at"]),
                      p["source"]) for p in state.get("portions", [])],
        consumed_by_order=state.get("consumed_by_order"),
        consumed_at=keys.parse_iso(state["consumed_at"]) if state.get("consumed_at") else None,
        starts_at=keys.parse_iso(state["starts_at"]) if state.get("starts_at") else None,
        discount_percent=state.get("discount_percent"), free_shipping=bool(state.get("free_shipping")),
        shared=bool(state.get("shared")), uses=int(state.get("uses", 0)), campaign_id=state.get("campaign_id"),
        subject=state.get("subject") or (f"campaign:{state['campaign_id']}" if state.get("campaign_id") else None),
        min_order_minor=int(state.get("min_order_minor") or 0),
        max_uses=state["max_uses"] if "max_uses" in state else (None if state.get("shared") else 1),
        product_skus=tuple(state.get("product_skus") or ()), free_product_sku=state.get("free_product_sku"),
        reward_id=state.get("reward_id"),
        version=stored_version(item))
