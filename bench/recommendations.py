"""CPU time of the recommendation rules (domain/products/recommendations.py) against a shop's size.

    python -m bench.recommendations [--orders 10000 50000] [--products 300] [--seed 7]

A synthetic shop: customers with 1–8 orders each, 1–4 products an order drawn with a Zipf-like
popularity over ``--products`` products, a third of them reordered at a rhythm of 2–8 weeks.
Measures ``time.process_time`` of ``recommend`` (the daily job's computation, in memory: the
store's Query and BatchWriteItem are not counted) and of ``choose`` per e-mail, and prints the
CPU per 1,000 orders and the ratio between the sizes (near 1 means linear in the orders).
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import merge
from chalicelib.domain.products.recommendations import Purchase, choose, recommend

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def synthetic_history(orders: int, products: int, rnd: random.Random) -> list[Purchase]:
    weights = [1 / (rank + 1) for rank in range(products)]
    ids = [f"p{n}" for n in range(products)]
    history, customer = [], 0
    while len(history) < orders:
        customer += 1
        favourite = rnd.choices(ids, weights)[0]
        rhythm = timedelta(days=rnd.randint(14, 56))
        at = START + timedelta(days=rnd.randint(0, 300))
        for _ in range(rnd.randint(1, 8)):
            basket = {favourite} | set(rnd.choices(ids, weights, k=rnd.randint(0, 3)))
            history.append(Purchase(f"o{len(history)}", f"c{customer}", at, frozenset(basket)))
            at += rhythm + timedelta(days=rnd.randint(-5, 5))
    return history[:orders]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    catalog = {f"p{n}": merge(f"p{n}", ProductFacts(f"p{n}", title=f"Product {n}", price_minor=1000,
                                                     url=f"https://shop.example/products/p{n}",
                                                     available=n % 10 != 3), None)
               for n in range(args.products)}
    per_thousand = []
    for orders in args.orders:
        history = synthetic_history(orders, args.products, rnd)
        started = time.process_time()
        found = recommend(history)
        job = time.process_time() - started
        customers = list(found.per_customer.values())
        started = time.process_time()
        for recommendations in customers:
            choose(recommendations, catalog, START + timedelta(days=400), bought_with=found.bought_with)
        pick = (time.process_time() - started) / len(customers)
        per_thousand.append(job * 1000 / orders)
        print(f"{orders:>7} orders, {len(customers):>6} customers: job {job * 1000:8.1f} ms CPU "
              f"({job * 1e6 / orders:6.1f} µs an order), choose {pick * 1e6:6.1f} µs an e-mail")
    if len(per_thousand) > 1:
        print(f"CPU per 1,000 orders, largest / smallest size: {per_thousand[-1] / per_thousand[0]:.2f}")


if __name__ == "__main__":
    main()
