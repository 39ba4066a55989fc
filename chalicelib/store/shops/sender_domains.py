"""Claims of sending domains: one item per domain, written only under a condition, so a
domain belongs to one shop however many claim it at once (docs/data-model.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.store import keys
from chalicelib.store.connection import connection
from chalicelib.store.models import SenderDomainItem, ShopSenderDomainItem
from pynamodb.transactions import TransactWrite

VERIFIED = "verified"


@dataclass
class DomainClaim:
    domain: str
    shop_id: str
    status: str
    claimed_at: datetime
    checked_at: Optional[datetime] = None
    verified_at: Optional[datetime] = None
    identity: dict = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED


class ClaimLost(Exception):
    """The claim's condition failed: another shop holds the domain (or one of its parents),
    or the claim changed since it was read."""


class SenderDomainStore:
    def get(self, domain: str) -> Optional[DomainClaim]:
        try:
            item = SenderDomainItem.get(keys.sender_domain_pk(domain), keys.SENDER_DOMAIN_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _claim(domain, item)

    def domains_of(self, shop_id: str) -> list[str]:
        return [row.domain for row in ShopSenderDomainItem.query(
            keys.shop_pk(shop_id), ShopSenderDomainItem.sk.startswith(keys.SHOP_SENDER_DOMAIN_PREFIX),
            consistent_read=True)]

    def unverified(self, limit: int = 500) -> list[str]:
        """Claims still waiting for DNS, across shops (sparse index; eventually consistent)."""
        return [row.gsi1sk for row in SenderDomainItem.by_due_day.query(keys.UNVERIFIED_SENDER_DOMAINS_PK, limit=limit)]

    def claim(self, claim: DomainClaim, *, parents: list[str], replacing: Optional[DomainClaim]) -> None:
        """Write ``claim`` in one transaction: each parent domain is unclaimed or the same shop's;
        the domain is unclaimed, already this shop's, or ``replacing`` exactly as it was read (a
        stale claim of another shop, whose list entry goes with it). ``ClaimLost`` otherwise."""
        item = _item(claim)
        if replacing is None:
            condition = SenderDomainItem.pk.does_not_exist()
        elif replacing.shop_id == claim.shop_id:
            condition = SenderDomainItem.shop_id == claim.shop_id
        else:
            condition = (SenderDomainItem.shop_id == replacing.shop_id) & \
                        (SenderDomainItem.claimed_at == keys.iso(replacing.claimed_at))
        try:
            with TransactWrite(connection=connection()) as write:
                for parent in parents:
                    write.condition_check(SenderDomainItem, keys.sender_domain_pk(parent), keys.SENDER_DOMAIN_SK,
                                          condition=SenderDomainItem.pk.does_not_exist()
                                          | (SenderDomainItem.shop_id == claim.shop_id))
                write.save(item, condition=condition)
                write.save(ShopSenderDomainItem(keys.shop_pk(claim.shop_id), keys.shop_sender_domain_sk(claim.domain),
                                                domain=claim.domain, claimed_at=keys.iso(claim.claimed_at)))
                if replacing is not None and replacing.shop_id != claim.shop_id:
                    write.delete(ShopSenderDomainItem(keys.shop_pk(replacing.shop_id),
                                                      keys.shop_sender_domain_sk(claim.domain)))
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise ClaimLost(claim.domain) from error
            raise

    def record_status(self, claim: DomainClaim) -> bool:
        """Store what SES said, only while the domain is still this shop's. False if it is not."""
        actions = [SenderDomainItem.status.set(claim.status), SenderDomainItem.identity.set(claim.identity),
                   SenderDomainItem.checked_at.set(keys.iso(claim.checked_at))]
        if claim.verified:
            actions += [SenderDomainItem.gsi1pk.remove(), SenderDomainItem.gsi1sk.remove()]
            if claim.verified_at is not None:
                actions.append(SenderDomainItem.verified_at.set(keys.iso(claim.verified_at)))
        else:
            actions += [SenderDomainItem.gsi1pk.set(keys.UNVERIFIED_SENDER_DOMAINS_PK),
                        SenderDomainItem.gsi1sk.set(claim.domain), SenderDomainItem.verified_at.remove()]
        try:
            SenderDomainItem(keys.sender_domain_pk(claim.domain), keys.SENDER_DOMAIN_SK).update(
                actions=actions, condition=SenderDomainItem.shop_id == claim.shop_id)
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, domain: str, shop_id: str) -> None:
        """Give the domain up (the shop's own claim only)."""
        try:
            with TransactWrite(connection=connection()) as write:
                write.delete(SenderDomainItem(keys.sender_domain_pk(domain), keys.SENDER_DOMAIN_SK),
                             condition=SenderDomainItem.shop_id == shop_id)
                write.delete(ShopSenderDomainItem(keys.shop_pk(shop_id), keys.shop_sender_domain_sk(domain)))
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                raise ClaimLost(domain) from error
            raise


def _item(claim: DomainClaim) -> SenderDomainItem:
    waiting = not claim.verified
    return SenderDomainItem(
        keys.sender_domain_pk(claim.domain), keys.SENDER_DOMAIN_SK, shop_id=claim.shop_id, status=claim.status,
        claimed_at=keys.iso(claim.claimed_at), checked_at=keys.iso(claim.checked_at) if claim.checked_at else None,
        verified_at=keys.iso(claim.verified_at) if claim.verified_at else None, identity=claim.identity or None,
        gsi1pk=keys.UNVERIFIED_SENDER_DOMAINS_PK if waiting else None, gsi1sk=claim.domain if waiting else None)


def _claim(domain: str, item: SenderDomainItem) -> DomainClaim:
    return DomainClaim(
        domain=domain, shop_id=item.shop_id, status=item.status, claimed_at=keys.parse_iso(item.claimed_at),
        checked_at=keys.parse_iso(item.checked_at) if item.checked_at else None,
        verified_at=keys.parse_iso(item.verified_at) if item.verified_at else None, identity=dict(item.identity or {}))
