"""Importing a shop's history: its customers and orders, through the webhooks' own ledger path.

Every imported order goes through ``ledger.apply_order_update`` with no event id, so
the order record is the idempotency record: an order that was imported and later
arrives by webhook (or reconciliation) counts once, and an import run again, or
resumed after an interruption, changes nothing it already did.

Order and speed: the items are sorted by when they happened; each customer's items
are applied in that order by one worker thread (customers are spread over
``workers`` threads by a hash of their e-mail), so a customer's orders never race
each other. Per order: 1 TransactGetItems + 1 TransactWriteItems. No post-purchase
e-mail is written for an imported order.

Points for old orders (docs/import.md): an order paid before ``points_since``
(default: the import day minus the program's ``points_validity_months``, i.e. the
orders whose points would already have expired) counts for spend, order count
and tier but earns no points and no cashback. With ``earn_points`` False no
imported order earns.

Resuming: the import is keyed by its file's digest and options; its item
``SHOP#{shop}`` / ``IMPORT#{id}`` keeps the position below which every item is
done. Running the same command again continues from there (items after it that
were already applied answer ``duplicate``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional

from chalicelib.domain.loyalty.account import add_months
from chalicelib.domain.loyalty.lapse import first_instant, today
from chalicelib.domain.loyalty.rules import Program
from chalicelib.domain.platform_events import CustomerEvent, Delivery, OrderEvent
from chalicelib.domain.shops.shop import Shop, normalize_email
from chalicelib.errors import BadRequest, ServiceError
from chalicelib.domain.orders.import_plan import plan_import
from chalicelib.domain.orders.history import HistoryItem, OpeningBalance, RowProblem
from chalicelib.platforms.exports import FORMATS, read_history, read_opening_balances, sorted_items
from chalicelib.platforms.context import WebhookContext
from chalicelib.services.loyalty import ledger
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.orders.imports import ImportJobs

CHECKPOINT_EVERY_ITEMS = 250
CHECKPOINT_EVERY_SECONDS = 5.0
MAX_PROBLEMS_KEPT = 200  # in the import's item; the CLI prints all of this run's


@dataclass(frozen=True)
class ImportOptions:
    fmt: str
    earn_points: bool = True
    points_since: Optional[datetime] = None
    since: Optional[datetime] = None  # older history is left out
    until: Optional[datetime] = None  # later orders are left to webhooks and reconciliation
    workers: int = 4

    def as_json(self) -> dict:
        return {"format": self.fmt, "earn_points": self.earn_points,
                "points_since": self.points_since.isoformat() if self.points_since else None,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


@dataclass
class Prepared:
    shop: Shop
    import_id: str
    items: list[HistoryItem]
    balances: list[OpeningBalance]
    problems: list[RowProblem]
    skipped: int
    out_of_range: int
    points_since: Optional[datetime]


@dataclass
class RunCounts:
    applied: int = 0
    duplicate: int = 0
    ignored: int = 0
    failed: int = 0
    points_earned: int = 0
    points_reversed: int = 0
    problems: list[dict] = field(default_factory=list)


def prepare(deps, shop_id: str, history_path: str, options: ImportOptions, now: datetime,
            balances_path: Optional[str] = None) -> Prepared:
    """Read and check the files (no writes): items in date order, problems with their lines."""
    if options.fmt not in FORMATS:
        raise BadRequest(f"format: one of {', '.join(FORMATS)}", field="format")
    shop = load_shop(deps, shop_id)
    context = WebhookContext(shop.shop_id, (), shop.currency, shop.currency_exponent)
    digest = hashlib.sha256()
    raw = Path(history_path).read_bytes()
    digest.update(raw)
    try:
        with open(history_path, encoding="utf-8-sig", newline="") as stream:
            items, problems, skipped = sorted_items(read_history(options.fmt, stream, context))
    except UnicodeDecodeError as error:
        raise BadRequest(f"file: {Path(history_path).name} is not UTF-8 text (byte {error.start})",
                         field="file") from None
    except csv.Error as error:
        raise BadRequest(f"file: {Path(history_path).name} is not readable CSV ({error})", field="file") from None
    balances: list[OpeningBalance] = []
    if balances_path:
        digest.update(b"\0balances\0" + Path(balances_path).read_bytes())
        with open(balances_path, encoding="utf-8-sig", newline="") as stream:
            for read in read_opening_balances(stream):
                if isinstance(read, RowProblem):
                    problems.append(replace(read, reason=f"{Path(balances_path).name}: {read.reason}"))
                elif read.valid_through is not None and read.valid_through < today(shop.timezone, now):
                    problems.append(RowProblem(read.line, f"{Path(balances_path).name}: expiry: {read.valid_through} "
                                                          "has passed"))
                else:
                    balances.append(read)
    kept = [item for item in items if _in_range(item, options)]
    digest.update(json.dumps(options.as_json(), sort_keys=True).encode())
    points_since = None
    if options.earn_points:
        points_since = options.points_since or add_months(now, -shop.program.points_validity_months)
    return Prepared(shop, digest.hexdigest()[:16], kept, balances, problems, len(skipped), len(items) - len(kept),
                    points_since)


def _in_range(item: HistoryItem, options: ImportOptions) -> bool:
    if not isinstance(item.event, OrderEvent):
        return True
    return (options.since is None or item.at >= options.since) and (options.until is None or item.at < options.until)


def program_chooser(shop: Shop, points_since: Optional[datetime]) -> Callable[[OrderEvent], Program]:
    full = Program(shop.program, shop.currency_exponent, shop.timezone)
    counting_only = Program(replace(shop.program, earn_rate=Decimal(0), cashback_percent=Decimal(0)),
                            shop.currency_exponent, shop.timezone)

    def choose(event: OrderEvent) -> Program:
        paid_at = event.order.paid_at or event.order.created_at
        earns = points_since is not None and paid_at is not None and paid_at >= points_since
        return full if earns else counting_only

    return choose


def dry_run(prepared: Prepared, now: datetime) -> dict:
    plan = plan_import(prepared.shop, prepared.items, prepared.balances, now,
                       program_chooser(prepared.shop, prepared.points_since))
    return {"dry_run": True, **_header(prepared), "would_create": plan.summary(prepared.shop)}


def _header(prepared: Prepared) -> dict:
    return {"shop_id": prepared.shop.shop_id, "import_id": prepared.import_id, "items": len(prepared.items),
            "opening_balances": len(prepared.balances), "skipped": prepared.skipped,
            "outside_dates": prepared.out_of_range,
            "points_since": prepared.points_since.isoformat() if prepared.points_since else None,
            "problems": [{"line": p.line, "reason": p.reason} for p in prepared.problems]}


def run(deps, prepared: Prepared, options: ImportOptions, now: datetime,
        progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Apply the prepared items; resumes a run of the same files and options."""
    shop = prepared.shop
    jobs = deps.repos.imports(shop.shop_id)
    state = jobs.get(prepared.import_id)
    if state and state.get("status") == "complete":
        return {**_header(prepared), "status": "complete", "already_complete": True, "result": state}
    start_position = int(state["position"]) if state else 0
    resumed = bool(state)
    state = state or {"import_id": prepared.import_id, "options": options.as_json(), "started_at": now.isoformat(),
                      "total": len(prepared.items) + len(prepared.balances), "position": 0,
                      "problems": [{"line": p.line, "reason": p.reason} for p in prepared.problems][:MAX_PROBLEMS_KEPT],
                      "counts": {}}
    state["status"] = "running"
    jobs.save(prepared.import_id, state)

    # Opening balances come first: positions 0..len(balances)-1, then the history items.
    work: list = list(prepared.balances) + list(prepared.items)
    choose = program_chooser(shop, prepared.points_since)
    counts = RunCounts()
    started = time.monotonic()
    done = [False] * len(work)
    for index in range(start_position):
        done[index] = True
    position = start_position
    results: "queue.Queue[tuple[int, dict]]" = queue.Queue()
    workers = max(1, options.workers)
    queues: list["queue.Queue"] = [queue.Queue() for _ in range(workers)]

    def worker(inbox: "queue.Queue") -> None:
        while True:
            index = inbox.get()
            if index is None:
                return
            try:
                results.put((index, _apply_one(deps, shop, work[index], choose, now)))
            except Exception as error:  # noqa: BLE001 - handed to the main thread, which stops the run
                results.put((index, error))

    threads = [threading.Thread(target=worker, args=(q,), daemon=True) for q in queues]
    for thread in threads:
        thread.start()
    for index in range(start_position, len(work)):
        queues[_partition(work[index], workers)].put(index)
    last_saved, last_saved_at = position, time.monotonic()
    completed = start_position
    try:
        for _ in range(len(work) - start_position):
            index, answer = results.get()
            if isinstance(answer, Exception):
                # Not a bad row (those are answers): the store or the network failed. Stop, keep
                # the position; the same command resumes.
                raise answer
            done[index] = True
            completed += 1
            _count(counts, work[index], answer)
            while position < len(work) and done[position]:
                position += 1
            if position - last_saved >= CHECKPOINT_EVERY_ITEMS or time.monotonic() - last_saved_at > CHECKPOINT_EVERY_SECONDS:
                _save(deps, jobs, prepared.import_id, state, position, counts, "running")
                last_saved, last_saved_at = position, time.monotonic()
            if progress:
                progress(completed, len(work))
    finally:
        if position < len(work):
            # Interrupted (Ctrl-C, an error): drop what is still queued, keep what is surely
            # done, so the same command resumes here.
            for q in queues:
                _drain(q)
            _save(deps, jobs, prepared.import_id, state, position, counts, "interrupted")
        for q in queues:
            q.put(None)
    seconds = time.monotonic() - started
    _save(deps, jobs, prepared.import_id, state, position, counts, "complete", finished_at=deps.clock().isoformat())
    applied_now = len(work) - start_position
    return {**_header(prepared), "status": "complete", "resumed_from": start_position if resumed else None,
            "this_run": {"items": applied_now, "applied": counts.applied, "duplicate": counts.duplicate,
                         "ignored": counts.ignored, "failed": counts.failed,
                         "points_earned": counts.points_earned, "points_reversed": counts.points_reversed,
                         "seconds": round(seconds, 2),
                         "items_per_second": round(applied_now / seconds, 1) if seconds > 0 else None},
            "failures": counts.problems}


def _drain(inbox: "queue.Queue") -> None:
    try:
        while True:
            inbox.get_nowait()
    except queue.Empty:
        pass


def _save(deps, jobs: ImportJobs, import_id: str, state: dict, position: int, counts: RunCounts, status: str,
          **extra) -> None:
    """Counts add up over resumed runs: what this run counted since its last save is added."""
    totals = state.setdefault("counts", {})
    reported = state.setdefault("_reported", {})
    for name in _COUNTED:
        value = getattr(counts, name)
        totals[name] = totals.get(name, 0) + value - reported.get(name, 0)
        reported[name] = value
    new_failures = counts.problems[reported.get("problems", 0):]
    reported["problems"] = len(counts.problems)
    failures = state.setdefault("failures", [])
    failures.extend(new_failures[:max(MAX_PROBLEMS_KEPT - len(failures), 0)])
    state.update(position=position, status=status, updated_at=deps.clock().isoformat(), **extra)
    jobs.save(import_id, {k: v for k, v in state.items() if not k.startswith("_")})


_COUNTED = ("applied", "duplicate", "ignored", "failed", "points_earned", "points_reversed")


def _partition(entry, workers: int) -> int:
    if isinstance(entry, OpeningBalance):
        email = entry.email
    elif isinstance(entry.event, OrderEvent):
        email = entry.event.order.customer.email
    elif isinstance(entry.event, CustomerEvent):
        email = entry.event.customer.email
    else:
        email = entry.event.customer.email if entry.event.customer else entry.event.refund.order_id
    digest = hashlib.sha256(normalize_email(email or "").encode()).digest()
    return int.from_bytes(digest[:4], "big") % workers


def _apply_one(deps, shop: Shop, entry, choose, now: datetime) -> dict:
    try:
        if isinstance(entry, OpeningBalance):
            # Honoured through the file's day on the shop's clock, as the e-mails will name it.
            expires_at = first_instant(entry.valid_through, shop.timezone) if entry.valid_through \
                else add_months(now, shop.program.points_validity_months)
            return ledger.with_retries(lambda: ledger.apply_opening_balance(deps, shop, entry.email, entry.points,
                                                                            expires_at, now))
        event = entry.event
        if isinstance(event, OrderEvent):
            program = choose(event)
            return ledger.with_retries(lambda: ledger.apply_order_update(deps, shop, event.order, now, topic="import",
                                                                         notify=False, program=program)[0])
        if isinstance(event, CustomerEvent):  # joining long ago: no sign-up bonus, no welcome e-mail
            return ledger.with_retries(lambda: ledger.apply_customer_facts(deps, shop, event.customer, now, topic="import",
                                                                           notify=False))
        return ledger.apply_delivery(deps, shop, Delivery(event=event, event_id=None, topic="import"), now)
    except ServiceError as error:  # e.g. Busy after every retry
        return {"result": "failed", "reason": error.message}


def _count(counts: RunCounts, entry, answer: dict) -> None:
    result = answer.get("result")
    if result == "applied":
        counts.applied += 1
        counts.points_earned += int(answer.get("points_earned", answer.get("points", 0)) or 0)
        counts.points_reversed += int(answer.get("points_reversed", 0) or 0)
    elif result == "duplicate":
        counts.duplicate += 1
    elif result == "ignored":
        counts.ignored += 1
    else:
        counts.failed += 1
        counts.problems.append({"line": entry.line, "reason": answer.get("reason", "failed")})


def import_status(deps, shop_id: str) -> dict:
    return {"shop_id": shop_id, "imports": deps.repos.imports(shop_id).list()}

