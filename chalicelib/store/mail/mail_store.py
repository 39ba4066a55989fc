"""Mail state in the ``loyalty`` table: send log, preferences, suppression, SES ids.

See docs/data-model.md, section "Mail", for the items, keys and request counts.

The send log item ``SEND#{shop}#{idempotency key}`` is the idempotency record
of one queue message. It is *claimed* (a lease) in one transaction together
with the check that the address is not suppressed and, for marketing, the
customer's preferences (not unsubscribed, under the cap; versioned), so two
workers can neither both send one message nor both take the last cap slot.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Optional

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactGet

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.shops.shop import normalize_email
from chalicelib.domain.campaigns.links import subject_of
from chalicelib.store import counters, keys
from chalicelib.store.connection import connection, lean_connection, resolve
from chalicelib.store.customer_sends import customer_send_items, send_log_index_keys
from chalicelib.store.retries import retried
from chalicelib.store.transaction import PreparedCondition, Transaction, put_kwargs
from chalicelib.store.models import (
    MailPrefItem,
    MailSendItem,
    SesMessageItem,
    SuppressionItem,
    over_version,
    stored_version,
)

logger = logging.getLogger("loyalty.mail")

CLAIMED, SENT, SKIPPED, FAILED = "claimed", "sent", "skipped", "failed"
DELIVERED, BOUNCED, COMPLAINED = "delivered", "bounced", "complained"
# Not sent yet, on purpose (the shop's sender is not verified): the same key sends once it is released.
HELD = "held"
# A send in one of these states is done: the same idempotency key never sends again.
FINAL_STATUSES = frozenset({SENT, SKIPPED, FAILED, DELIVERED, BOUNCED, COMPLAINED})
SEND_LOG_DAYS = 400
SES_LOOKUP_DAYS = 400  # complaints can arrive weeks after the send
_MAX_UPDATE_ATTEMPTS = 10


class ClaimRefused(Exception):
    """The claim transaction was cancelled. ``suppressed``: the address is on the
    shop's suppression list; otherwise something changed since the read."""

    def __init__(self, suppressed: bool):
        super().__init__("suppressed" if suppressed else "changed since read")
        self.suppressed = suppressed


class RecordChanged(Exception):
    """A conditional write lost to another writer; read again."""


def email_hash(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


@dataclass
class SendRecord:
    shop_id: str
    idempotency_key: str
    customer_id: str
    template: str
    category: str
    campaign_id: Optional[str]
    status: str
    created_at: datetime
    claim_id: Optional[str] = None
    claimed_until: Optional[datetime] = None
    attempts: int = 0
    ses_message_id: Optional[str] = None
    reason: Optional[str] = None
    sent_at: Optional[datetime] = None
    opens: int = 0
    clicks: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def lease_live(self, now: datetime) -> bool:
        return self.status == CLAIMED and self.claimed_until is not None and self.claimed_until > now


@dataclass
class MailPrefs:
    shop_id: str
    customer_id: str
    unsubscribed: bool = False
    unsubscribed_at: Optional[datetime] = None
    resubscribed_at: Optional[datetime] = None
    unsubscribe_source: Optional[str] = None
    marketing_sends: dict[str, str] = field(default_factory=dict)  # slot → iso time
    soft_bounces: int = 0
    last_soft_bounce_at: Optional[datetime] = None
    # The campaigns and flows (subjects) whose results counted an unsubscribe of this customer, latest
    # last: unsubscribing again after subscribing again counts nowhere twice (services/mail/unsubscribe.py).
    unsubscribes_counted: list[str] = field(default_factory=list)
    version: int = 0


@dataclass
class SendContext:
    account: Optional[Account]
    prefs: Optional[MailPrefs]
    send: Optional[SendRecord]


@dataclass(frozen=True)
class SesMessageRef:
    shop_id: str
    idempotency_key: str
    customer_id: str


class MailStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    # -- reads -------------------------------------------------------------------
    def load_for_send(self, customer_id: str, idempotency_key: str, *, with_prefs: bool) -> SendContext:
        """The send log and (for marketing) the preferences: one strongly consistent
        TransactGetItems. The account is loaded separately (``LoyaltyRepository.load_account``:
        one Query for the profile and its lots), and only when the send goes ahead."""
        with TransactGet(connection=connection()) as get:
            send_future = get.get(MailSendItem, keys.send_log_pk(self.shop_id, idempotency_key), keys.SEND_LOG_SK)
            prefs_future = (get.get(MailPrefItem, keys.customer_pk(self.shop_id, customer_id), keys.MAIL_PREF_SK)
                            if with_prefs else None)
        send, prefs = resolve(send_future), resolve(prefs_future)
        return SendContext(
            account=None,
            prefs=(_prefs_from_item(self.shop_id, customer_id, prefs) if prefs
                   else MailPrefs(self.shop_id, customer_id)) if with_prefs else None,
            send=_send_from_item(send) if send else None)

    def prefs_from_item(self, customer_id: str, item) -> MailPrefs:
        """The preferences read along with the account (``LoyaltyRepository.load_account_for_send``)."""
        return _prefs_from_item(self.shop_id, customer_id, item) if item is not None \
            else MailPrefs(self.shop_id, customer_id)

    def load_send(self, idempotency_key: str) -> Optional[SendRecord]:
        try:
            item = MailSendItem.get(keys.send_log_pk(self.shop_id, idempotency_key), keys.SEND_LOG_SK,
                                    consistent_read=True)
        except DoesNotExist:
            return None
        return _send_from_item(item)

    def load_prefs(self, customer_id: str) -> MailPrefs:
        try:
            item = MailPrefItem.get(keys.customer_pk(self.shop_id, customer_id), keys.MAIL_PREF_SK,
                                    consistent_read=True)
        except DoesNotExist:
            return MailPrefs(self.shop_id, customer_id)
        return _prefs_from_item(self.shop_id, customer_id, item)

    def customer_sends(self, customer_id: str, limit: int = 50) -> list[SendRecord]:
        """A customer's newest ``limit`` e-mails (sent, skipped, failed; opens and clicks), newest
        first: one Query of the customer's sends index."""
        return [_send_from_item(row) for row in customer_send_items(self.shop_id, customer_id, limit)]

    def load_prefs_many(self, customer_ids: Iterable[str]) -> dict[str, MailPrefs]:
        """Many customers' preferences (the planner's cap forecast): BatchGetItem, 100 keys a request,
        eventually consistent (a forecast, not a decision). A customer without any: fresh preferences."""
        wanted = list(dict.fromkeys(customer_ids))
        found = {}
        for item in MailPrefItem.batch_get([(keys.customer_pk(self.shop_id, c), keys.MAIL_PREF_SK) for c in wanted]):
            customer_id = item.pk.split("#", 2)[2]
            found[customer_id] = _prefs_from_item(self.shop_id, customer_id, item)
        return {c: found.get(c) or MailPrefs(self.shop_id, c) for c in wanted}

    def is_suppressed(self, email: str) -> bool:
        try:
            SuppressionItem.get(keys.suppression_pk(self.shop_id, email_hash(email)), keys.SUPPRESSION_SK,
                                consistent_read=True)
        except DoesNotExist:
            return False
        return True

    # -- the send's writes ---------------------------------------------------------
    def claim(self, send: SendRecord, previous: Optional[SendRecord], email: str, now: datetime,
              lease: timedelta, prefs: Optional[MailPrefs] = None, *, only_if_new: bool = False,
              rider: Optional["SentWrite"] = None) -> SendRecord:
        """Claim ``send`` for this worker until ``now + lease``, in one TransactWriteItems:

        - condition check: the address is not suppressed for this shop;
        - put the send log as ``claimed``, if it is new or the previous claim's lease ran out
          (``only_if_new``: if there is no send log at all; the sender claims so before it has
          read the send log, and reads it only when the claim is refused);
        - put the preferences (marketing: the cap slot added), if their version is unchanged;
        - ``rider``: the queue batch's previous sent e-mail's final write (``SentWrite``), which
          rides in the same transaction, so a sent e-mail stays unmarked only until the next claim.

        The rider is written (``rider.written``) with the claim, or alone when the claim's
        condition refused the transaction (then the refusal is raised as without it) or anything
        else cancelled it (then the claim is tried again alone). A rider that touches the claim's
        send log (a copy of the message in the same batch) is written alone first. Should writing
        it alone fail, it stays unwritten for the caller (send_consumer) to try again and report.
        """
        riding = rider if rider is not None and not rider.written else None
        if riding is not None and (riding.send.shop_id, riding.send.idempotency_key) == (send.shop_id,
                                                                                          send.idempotency_key):
            _write_alone(riding)
            riding = None
        claimed = SendRecord(**{**send.__dict__, "status": CLAIMED, "claim_id": uuid.uuid4().hex,
                                "claimed_until": now + lease,
                                "attempts": (previous.attempts if previous else 0) + 1,
                                "created_at": previous.created_at if previous else now})
        try:
            prepared = _prepared_requests(MailSendItem.Meta.table_name)
            with Transaction(lean_connection()) as write:
                # Order matters for the cancellation reasons: condition checks come first.
                write.condition_check_action(prepared.suppression_check(
                    keys.suppression_pk(self.shop_id, email_hash(email))))
                write.put_action(prepared.claim_put(_send_values(claimed, now), now, only_if_new))
                if prefs is not None:
                    write.save(over_version(_prefs_item(prefs), prefs.version))
                if riding is not None:
                    _add_sent(write, riding)
        except TransactWriteError as error:
            reasons = list(getattr(error, "cancellation_reasons", None) or [])
            claim_items = 2 + (prefs is not None)
            refused = error.cause_response_code == "TransactionCanceledException" and (not reasons or any(
                reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons[:claim_items]))
            if riding is not None:  # the previous e-mail's mark never waits on this claim's fate
                _write_alone(riding)
                if error.cause_response_code == "TransactionCanceledException" and not refused:
                    # cancelled for another reason (a conflict on a counter shard): the claim alone
                    return self.claim(send, previous, email, now, lease, prefs, only_if_new=only_if_new)
            if error.cause_response_code != "TransactionCanceledException":
                raise
            suppressed = bool(reasons) and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed"
            if not reasons:  # no reasons to go by: look
                suppressed = self.is_suppressed(email)
            raise ClaimRefused(suppressed) from error
        if riding is not None:
            _written(riding)
        if prefs is not None:
            prefs.version += 1
        return claimed

    def record_final(self, send: SendRecord, status: str, reason: str, now: datetime, *,
                     only_if_new: bool = False) -> bool:
        """Write ``send`` as ``skipped`` or ``failed`` if no other worker holds or finished it
        (new, or our own claim, or a lapsed lease; ``only_if_new``: new). False when the
        condition failed."""
        record = SendRecord(**{**send.__dict__, "status": status, "reason": reason[:1000],
                               "claim_id": None, "claimed_until": None})
        condition = _claim_condition(now, only_if_new)
        if send.claim_id:
            condition = condition | (MailSendItem.claim_id == send.claim_id)
        try:
            _send_item(record, now).save(condition=condition)
        except PutError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def sent_write(self, send: SendRecord, ses_message_id: str, now: datetime,
                   outbox_key: Optional[dict] = None, *, lookup: bool = True) -> "SentWrite":
        """What ``mark_sent`` writes for ``send``, to write now (``write_sent``) or with the next claim.
        ``lookup=False``: the message went out with its idempotency key in its tags
        (domain/mail/message_tags.py), so SES's events find the send log without the SES id lookup item."""
        return SentWrite(send, ses_message_id, now, outbox_key if _own_outbox_key(self.shop_id, outbox_key) else None,
                         lookup=lookup)

    def mark_sent(self, send: SendRecord, ses_message_id: str, now: datetime,
                  outbox_key: Optional[dict] = None) -> None:
        """Send log → ``sent`` with the SES message id, the SES id → send lookup (the sender leaves
        it out with ``sent_write(..., lookup=False)`` when the tags carry the key) and, when the
        message came from the outbox, the outbox item deleted: one TransactWriteItems. Not
        conditioned on the claim: SES already took the message, so the record must say so even
        if this worker's lease has lapsed."""
        write_sent(self.sent_write(send, ses_message_id, now, outbox_key))

    def release(self, send: SendRecord, reason: str, now: datetime) -> None:
        """End our lease now (a transient failure): the queue's retry may claim at once."""
        try:
            MailSendItem(keys.send_log_pk(self.shop_id, send.idempotency_key), keys.SEND_LOG_SK).update(
                actions=[MailSendItem.claimed_until.set(keys.iso(now)), MailSendItem.reason.set(reason[:1000]),
                         MailSendItem.updated_at.set(keys.iso(now))],
                condition=(MailSendItem.claim_id == send.claim_id) & (MailSendItem.status == CLAIMED))
        except UpdateError as error:
            if not _condition_failed(error):
                raise

    # -- preferences -----------------------------------------------------------------
    def update_prefs(self, customer_id: str, change: Callable[[MailPrefs], None]) -> MailPrefs:
        """Read, change, write with the version condition; again on a lost race."""
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            prefs = self.load_prefs(customer_id)
            change(prefs)
            try:
                over_version(_prefs_item(prefs), prefs.version).save()
            except PutError as error:
                if _condition_failed(error):
                    continue
                raise
            prefs.version += 1
            return prefs
        raise RecordChanged(f"preferences of {customer_id} kept changing")

    # -- suppression and delivery events -----------------------------------------------
    def suppress(self, email: str, reason: str, detail: Optional[str], now: datetime,
                 source_message_id: Optional[str] = None) -> None:
        SuppressionItem(keys.suppression_pk(self.shop_id, email_hash(email)), keys.SUPPRESSION_SK,
                        reason=reason, detail=(detail or None) and detail[:500], created_at=keys.iso(now),
                        source_message_id=source_message_id).save()

    def unsuppress(self, email: str) -> None:
        SuppressionItem(keys.suppression_pk(self.shop_id, email_hash(email)), keys.SUPPRESSION_SK).delete()

    def set_send_status(self, idempotency_key: str, status: str, *, allowed_from: tuple[str, ...], now: datetime,
                        reason: Optional[str] = None, ses_message_id: Optional[str] = None) -> Optional[str]:
        """Move the send log to a delivery outcome if it is in one of ``allowed_from``
        (events arrive unordered: a late Delivery must not hide a Complaint) and, given
        ``ses_message_id``, it was marked sent with that SES message (the event's). Returns what
        the send counts towards (``campaign:{id}`` or ``flow:{template}``) when it moved,
        else None."""
        stamp = {DELIVERED: MailSendItem.delivered_at, BOUNCED: MailSendItem.bounced_at,
                 COMPLAINED: MailSendItem.complained_at}[status]
        actions = [MailSendItem.status.set(status), stamp.set(keys.iso(now)), MailSendItem.updated_at.set(keys.iso(now))]
        if reason:
            actions.append(MailSendItem.reason.set(reason[:1000]))
        item = MailSendItem(keys.send_log_pk(self.shop_id, idempotency_key), keys.SEND_LOG_SK)
        condition = MailSendItem.pk.exists() & MailSendItem.status.is_in(*allowed_from)
        if ses_message_id is not None:
            condition = condition & (MailSendItem.ses_message_id == ses_message_id)
        try:  # the update returns the whole item (ALL_NEW): its template and campaign come back with it
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        return subject_of(item.campaign_id, item.template)

    def count_engagement(self, idempotency_key: str, kind: str, now: datetime,
                         ses_message_id: Optional[str] = None) -> None:
        """Open or Click: one more on the send log's counter (given ``ses_message_id``: only on the
        send log marked sent with that SES message)."""
        counter, stamp = ((MailSendItem.opens, MailSendItem.last_opened_at) if kind == "open"
                          else (MailSendItem.clicks, MailSendItem.last_clicked_at))
        condition = MailSendItem.pk.exists()
        if ses_message_id is not None:
            condition = condition & (MailSendItem.ses_message_id == ses_message_id)
        try:
            MailSendItem(keys.send_log_pk(self.shop_id, idempotency_key), keys.SEND_LOG_SK).update(
                actions=[counter.add(1), stamp.set(keys.iso(now))], condition=condition)
        except UpdateError as error:
            if not _condition_failed(error):
                raise


@dataclass
class SentWrite:
    """One send's final write: the send log ``sent`` with SES's message id, the SES id lookup (``lookup``:
    only when the message's tags do not carry its idempotency key), the outbox item it came from
    deleted and (``counter``) its results counted, all or nothing.
    ``message_id``: the queue message it came from, reported failed should this write fail.
    ``written``: it landed (alone, or riding in a claim)."""

    send: SendRecord
    ses_message_id: str
    now: datetime
    outbox_key: Optional[dict] = None
    counter: Optional[counters.CounterAddition] = None
    message_id: Optional[str] = None
    written: bool = False
    lookup: bool = True


_CONFLICT_ATTEMPTS = 5


def write_sent(sent: SentWrite) -> None:
    """One send's final write and its results counter in one TransactWriteItems. A lost race on
    the counter shard with another sender's transaction (``TransactionConflict``) is tried again;
    the writes are unconditional, so a retry writes the same thing."""
    _write_sent(sent)
    _written(sent)


def _written(sent: SentWrite) -> None:
    sent.send.status, sent.send.ses_message_id, sent.send.sent_at = SENT, sent.ses_message_id, sent.now
    sent.written = True


def _write_alone(rider: SentWrite) -> None:
    """A claim's rider written on its own (``write_sent``). Should that fail it stays unwritten: the
    caller (send_consumer) tries again and, failing, reports its message failed; the claim goes on
    as it would have without it."""
    try:
        write_sent(rider)
    except Exception:
        logger.warning("the previous e-mail's final write failed; left to the caller", exc_info=True)


def _write_sent(sent: SentWrite) -> None:
    def write_once() -> None:
        with Transaction(lean_connection()) as write:
            _add_sent(write, sent)

    retried(write_once, lost_race=_transaction_conflict, attempts=_CONFLICT_ATTEMPTS)


def _transaction_conflict(error: Exception) -> bool:
    """Cancelled because another transaction held one of its items (a counter shard)."""
    reasons = list(getattr(error, "cancellation_reasons", None) or []) if isinstance(error, TransactWriteError) else []
    return any(reason is not None and reason.code == "TransactionConflict" for reason in reasons)


def _add_sent(write: Transaction, sent: SentWrite) -> None:
    send, now = sent.send, sent.now
    prepared = _prepared_requests(MailSendItem.Meta.table_name)
    if sent.outbox_key is not None:
        write.delete_action(prepared.outbox_delete(sent.outbox_key["pk"], sent.outbox_key["sk"]))
    stamp = keys.iso(now)
    if sent.lookup:  # else SES's events find the send log from the message's tags
        write.put(SesMessageItem, {"pk": keys.ses_message_pk(sent.ses_message_id), "sk": keys.SES_MESSAGE_SK,
                                   "shop_id": send.shop_id, "idempotency_key": send.idempotency_key,
                                   "customer_id": send.customer_id, "created_at": stamp,
                                   "ttl": _ttl(now, SES_LOOKUP_DAYS)})
    write.update_action(prepared.sent_update(keys.send_log_pk(send.shop_id, send.idempotency_key),
                                             sent.ses_message_id, stamp))
    if sent.counter is not None:
        counters.add_in(write, sent.counter)


class _PreparedRequests:
    """What the claim and the final write send that never changes per e-mail, made once per table
    by PynamoDB's own objects (the conditions and the update's actions, serialised with marker values),
    so each e-mail only fills in its keys and values: the very actions ``Transaction.condition_check``,
    ``put`` with the condition, ``delete`` and ``update`` of the models make
    (tests/contract/test_send_requests.py holds them equal), without building the expressions again."""

    _MARK = "\x00mark\x00"  # a value no e-mail has: where the per-e-mail value goes

    def __init__(self, table_name: str):
        self.table_name = table_name
        check = SuppressionItem.get_operation_kwargs_from_class(
            self._MARK, range_key=keys.SUPPRESSION_SK, condition=SuppressionItem.pk.does_not_exist())
        self._check_rest = {name: value for name, value in check.items() if name not in ("TableName", "Key")}
        self._check_range = check["Key"][SuppressionItem.sk.attr_name]
        self._new = PreparedCondition(MailSendItem.pk.does_not_exist())
        self._claimable = PreparedCondition(_claimable_at(self._MARK))
        self._now_place = next(place for place, value in self._claimable.values.items() if value == {"S": self._MARK})
        update = MailSendItem(self._MARK, keys.SEND_LOG_SK).get_update_kwargs_from_instance(actions=[
            MailSendItem.status.set(SENT), MailSendItem.ses_message_id.set(self._MARK + "id"),
            MailSendItem.sent_at.set(self._MARK + "at"), MailSendItem.updated_at.set(self._MARK + "at"),
            MailSendItem.claim_id.remove(), MailSendItem.claimed_until.remove(), MailSendItem.reason.remove()])
        self._update_expression = update["UpdateExpression"]
        self._update_names = update["ExpressionAttributeNames"]
        self._update_values = update["ExpressionAttributeValues"]
        self._update_range = update["Key"][MailSendItem.sk.attr_name]
        self._id_places = [place for place, value in self._update_values.items() if value == {"S": self._MARK + "id"}]
        self._at_places = [place for place, value in self._update_values.items() if value == {"S": self._MARK + "at"}]

    def suppression_check(self, pk: str) -> dict:
        return {"TableName": self.table_name, "Key": {"pk": {"S": pk}, "sk": dict(self._check_range)},
                **self._check_rest, "ExpressionAttributeNames": dict(self._check_rest["ExpressionAttributeNames"])}

    def claim_put(self, values: dict, now: datetime, only_if_new: bool) -> dict:
        action = put_kwargs(MailSendItem, values)
        if only_if_new:
            condition, condition_values = self._new, dict(self._new.values)
        else:
            condition = self._claimable
            condition_values = {**condition.values, self._now_place: {"S": keys.iso(now)}}
        action["ConditionExpression"] = condition.expression
        action["ExpressionAttributeNames"] = dict(condition.names)
        if condition_values:
            action["ExpressionAttributeValues"] = condition_values
        return action

    def outbox_delete(self, pk: str, sk: str) -> dict:
        return {"TableName": self.table_name, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}

    def sent_update(self, pk: str, ses_message_id: str, stamp: str) -> dict:
        values = dict(self._update_values)
        for place in self._id_places:
            values[place] = {"S": ses_message_id}
        for place in self._at_places:
            values[place] = {"S": stamp}
        return {"TableName": self.table_name, "Key": {"pk": {"S": pk}, "sk": dict(self._update_range)},
                "UpdateExpression": self._update_expression, "ExpressionAttributeNames": dict(self._update_names),
                "ExpressionAttributeValues": values}


@functools.lru_cache(maxsize=8)
def _prepared_requests(table_name: str) -> _PreparedRequests:
    return _PreparedRequests(table_name)


def find_ses_message(message_id: str) -> Optional[SesMessageRef]:
    try:
        item = SesMessageItem.get(keys.ses_message_pk(message_id), keys.SES_MESSAGE_SK)
    except DoesNotExist:
        return None
    return SesMessageRef(item.shop_id, item.idempotency_key, item.customer_id)


def find_ses_messages(message_ids: Iterable[str]) -> dict[str, SesMessageRef]:
    """``find_ses_message`` for a queue batch's events at once: BatchGetItem (eventually consistent,
    as the single read; PynamoDB asks 100 keys a request and again for unprocessed ones). Ids without
    a lookup are missing from the answer."""
    by_pk = {keys.ses_message_pk(message_id): message_id for message_id in message_ids if message_id}
    return {by_pk[item.pk]: SesMessageRef(item.shop_id, item.idempotency_key, item.customer_id)
            for item in SesMessageItem.batch_get([(pk, keys.SES_MESSAGE_SK) for pk in by_pk])}


# -- helpers ------------------------------------------------------------------------
def _condition_failed(error) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _claimable(now: datetime):
    """New, held, or claimed by someone whose lease ran out (and never marked sent)."""
    return _claimable_at(keys.iso(now))


def _claimable_at(stamp: str):
    return MailSendItem.pk.does_not_exist() | (MailSendItem.status == HELD) | (
        (MailSendItem.status == CLAIMED) & (MailSendItem.claimed_until < stamp))


def _own_outbox_key(shop_id: str, outbox_key) -> bool:
    """An outbox item of this shop (the key travels in the queue message)."""
    return (isinstance(outbox_key, dict) and isinstance(outbox_key.get("pk"), str)
            and isinstance(outbox_key.get("sk"), str) and outbox_key["pk"].startswith(f"OUTBOX#{shop_id}#"))


def _claim_condition(now: datetime, only_if_new: bool):
    return MailSendItem.pk.does_not_exist() if only_if_new else _claimable(now)


def _ttl(now: datetime, days: int) -> int:
    return int((now + timedelta(days=days)).timestamp())


def _send_item(send: SendRecord, now: datetime) -> MailSendItem:
    return MailSendItem(**_send_values(send, now))


def _send_values(send: SendRecord, now: datetime) -> dict:
    """The send log's attributes; the claim puts them without a model instance (``Transaction.put``)."""
    # gsi5: the customer's sends (index by_customer, keys only: store/customer_sends.py), for their
    # timeline, export and erasure.
    return dict(
        pk=keys.send_log_pk(send.shop_id, send.idempotency_key), sk=keys.SEND_LOG_SK,
        **send_log_index_keys(send.shop_id, send.customer_id, keys.iso(send.created_at), send.idempotency_key),
        shop_id=send.shop_id, idempotency_key=send.idempotency_key, customer_id=send.customer_id,
        template=send.template, category=send.category, campaign_id=send.campaign_id, status=send.status,
        claim_id=send.claim_id, claimed_until=keys.iso(send.claimed_until) if send.claimed_until else None,
        attempts=send.attempts, ses_message_id=send.ses_message_id, reason=send.reason,
        created_at=keys.iso(send.created_at), updated_at=keys.iso(now),
        sent_at=keys.iso(send.sent_at) if send.sent_at else None, ttl=_ttl(now, SEND_LOG_DAYS))


def _send_from_item(item: MailSendItem) -> SendRecord:
    return SendRecord(
        shop_id=item.shop_id, idempotency_key=item.idempotency_key, customer_id=item.customer_id,
        template=item.template, category=item.category, campaign_id=item.campaign_id, status=item.status,
        created_at=keys.parse_iso(item.created_at), claim_id=item.claim_id,
        claimed_until=keys.parse_iso(item.claimed_until) if item.claimed_until else None,
        attempts=int(item.attempts or 0), ses_message_id=item.ses_message_id, reason=item.reason,
        sent_at=keys.parse_iso(item.sent_at) if item.sent_at else None,
        opens=int(item.opens or 0), clicks=int(item.clicks or 0))


def _prefs_item(prefs: MailPrefs) -> MailPrefItem:
    return MailPrefItem(
        keys.customer_pk(prefs.shop_id, prefs.customer_id), keys.MAIL_PREF_SK,
        unsubscribed=prefs.unsubscribed,
        unsubscribed_at=keys.iso(prefs.unsubscribed_at) if prefs.unsubscribed_at else None,
        resubscribed_at=keys.iso(prefs.resubscribed_at) if prefs.resubscribed_at else None,
        unsubscribe_source=prefs.unsubscribe_source, marketing_sends=prefs.marketing_sends or None,
        soft_bounces=prefs.soft_bounces,
        last_soft_bounce_at=keys.iso(prefs.last_soft_bounce_at) if prefs.last_soft_bounce_at else None,
        unsubscribes_counted=prefs.unsubscribes_counted or None)


def _prefs_from_item(shop_id: str, customer_id: str, item: MailPrefItem) -> MailPrefs:
    return MailPrefs(
        shop_id=shop_id, customer_id=customer_id, unsubscribed=bool(item.unsubscribed),
        unsubscribed_at=keys.parse_iso(item.unsubscribed_at) if item.unsubscribed_at else None,
        resubscribed_at=keys.parse_iso(item.resubscribed_at) if item.resubscribed_at else None,
        unsubscribe_source=item.unsubscribe_source, marketing_sends=dict(item.marketing_sends or {}),
        soft_bounces=int(item.soft_bounces or 0),
        last_soft_bounce_at=keys.parse_iso(item.last_soft_bounce_at) if item.last_soft_bounce_at else None,
        unsubscribes_counted=list(item.unsubscribes_counted or []), version=stored_version(item))
