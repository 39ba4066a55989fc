"""What an import would create, computed in memory with the ledger's own rules (the dry run).

No I/O and no clock: the same ``apply_order`` / ``apply_refund`` a webhook goes
through, on accounts and order records kept in dictionaries.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from chalicelib.domain.loyalty.account import Account, add_months
from chalicelib.domain.loyalty.lapse import first_instant
from chalicelib.domain.loyalty.rules import Program, apply_order, apply_refund, note_time_zone, update_facts
from chalicelib.domain.money import format_minor
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.platform_events import CustomerEvent, OrderEvent, RefundEvent
from chalicelib.domain.shops.shop import Shop
from chalicelib.domain.orders.history import HistoryItem, OpeningBalance


@dataclass
class Plan:
    accounts: dict[str, Account] = field(default_factory=dict)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    orders_earning: int = 0
    orders_counting_only: int = 0
    refunds: int = 0

    def summary(self, shop: Shop) -> dict:
        exponent = shop.currency_exponent
        points = sum(a.points_balance for a in self.accounts.values())
        cashback = sum(a.cashback_minor for a in self.accounts.values())
        value_minor = shop.program.redemption_value_minor(points, exponent)
        tiers = Counter(a.tier_name or "(none)" for a in self.accounts.values())
        return {
            "customers": len(self.accounts),
            "orders": len(self.orders),
            "orders_earning_points": self.orders_earning,
            "orders_spend_and_tier_only": self.orders_counting_only,
            "refunds": self.refunds,
            "points": points,
            "cashback": format_minor(cashback, exponent),
            "spend": format_minor(sum(a.lifetime_spend_minor for a in self.accounts.values()), exponent),
            "tiers": dict(sorted(tiers.items())),
            # What the shop owes its customers once the import is done: points at their
            # redemption value, plus the cashback wallets.
            "liability": format_minor(value_minor + cashback, exponent),
            "currency": shop.currency,
        }


def plan_import(shop: Shop, items: list[HistoryItem], balances: list[OpeningBalance], now: datetime,
                program_for: Callable[[OrderEvent], Program]) -> Plan:
    plan = Plan()

    def account_of(email: Optional[str]) -> Optional[Account]:
        if not email:
            return None
        customer_id = shop.customer_id_for(email)
        if customer_id not in plan.accounts:
            plan.accounts[customer_id] = Account(shop.shop_id, customer_id, created_at=now, lots=[])
        return plan.accounts[customer_id]

    for balance in balances:
        account = account_of(balance.email)
        account.earn(balance.points, lot_id=f"opening-{account.customer_id}", cause="opening-balance", now=now,
                     expires_at=first_instant(balance.valid_through, shop.timezone) if balance.valid_through
                     else add_months(now, shop.program.points_validity_months),
                     kind="adjust")
    for item in items:
        event = item.event
        if isinstance(event, OrderEvent):
            order = event.order
            record = plan.orders.setdefault(order.order_id, OrderRecord(shop.shop_id, order.order_id))
            account = plan.accounts.get(record.customer_id) if record.customer_id else account_of(order.customer.email)
            program = program_for(event)
            was_paid = record.status
            apply_order(order, record, account, program, now)
            note_time_zone(account, order.place, shop.timezone)  # exports in date order: the latest address stays
            if was_paid != record.status and record.status == "paid":
                if program.rules.earn_rate or program.rules.cashback_percent:
                    plan.orders_earning += 1
                else:
                    plan.orders_counting_only += 1
        elif isinstance(event, RefundEvent):
            refund = event.refund
            record = plan.orders.setdefault(refund.order_id, OrderRecord(shop.shop_id, refund.order_id))
            account = plan.accounts.get(record.customer_id) if record.customer_id else None
            apply_refund(refund, record, account, Program(shop.program, shop.currency_exponent, shop.timezone), now)
            plan.refunds += 1
        elif isinstance(event, CustomerEvent):
            account = account_of(event.customer.email)
            if account is not None:
                update_facts(account, event.customer)
    for account in plan.accounts.values():
        account.refresh_tier(shop.program, now, shop.currency_exponent)
    return plan
