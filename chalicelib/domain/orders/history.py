"""What reading a shop's exported history yields: items to apply in order, rows that could not be
read, rows skipped on purpose, and opening balances (docs/import.md)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Optional, Union

from chalicelib.domain.platform_events import CustomerEvent, OrderEvent, RefundEvent

HistoryEvent = Union[OrderEvent, RefundEvent, CustomerEvent]


@dataclass(frozen=True)
class HistoryItem:
    line: int  # where it starts in the file (1-based; the first data row of a CSV is line 2)
    at: datetime  # when it happened: the import applies items in this order
    event: HistoryEvent

    @property
    def key(self) -> str:
        event = self.event
        if isinstance(event, OrderEvent):
            return f"order:{event.order.order_id}"
        if isinstance(event, RefundEvent):
            return f"refund:{event.refund.refund_id}"
        return f"customer:{(event.customer.email or '').lower()}"


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str  # not an error: e.g. an unpaid or cancelled order, a test order


@dataclass(frozen=True)
class OpeningBalance:
    line: int
    email: str
    points: int
    valid_through: Optional[date]  # the last day, on the shop's clock; None: the program's validity from the import day


Read = Union[HistoryItem, RowProblem, Skipped]
