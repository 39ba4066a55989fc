"""Does the program holdout measure the whole program's effect? Repeated simulated shops.

    python -m bench.program_holdout [--customers 10000] [--shares 2,5,10,20] [--runs 500]
                                    [--p-mailed 0.12] [--p-holdout 0.08] [--seed 18]

Each run: a shop of ``--customers``; the program holdout drawn by ``in_program_holdout`` (the hash
the send path skips by); a customer who gets the program's mail buys in the period with
probability ``--p-mailed``, one in the holdout with ``--p-holdout``; a buyer spends a log-normal
amount (median 900.00). The dashboard's ``program_lift`` (domain/campaigns/program_holdout.py) gives
the incremental revenue with its 95 % interval; printed per holdout share: how often the interval
holds the true increment (should be about 95 %), the mean estimate against the truth, the mean
interval width, and how often there was not enough data to state a number.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics

from chalicelib.domain.campaigns.program_holdout import in_program_holdout, program_lift, totals

MEDIAN_MINOR = 90_000
SIGMA = 0.6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--shares", default="2,5,10,20")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--p-mailed", type=float, default=0.12)
    parser.add_argument("--p-holdout", type=float, default=0.08)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    mean_spend = MEDIAN_MINOR * math.exp(SIGMA ** 2 / 2) / 100
    print(f"{args.customers} customers; buy {args.p_mailed:.0%} with the program's mail, {args.p_holdout:.0%} "
          f"without; mean spend {mean_spend:.2f}; {args.runs} runs per share\n")
    print(f"{'holdout':>8} {'held':>6} {'true increment':>15} {'mean estimate':>14} {'mean width':>11} "
          f"{'coverage':>9} {'no number':>10}")
    for share in (int(s) for s in args.shares.split(",")):
        held_total = covered = no_number = 0
        estimates, widths, truths = [], [], []
        for run in range(args.runs):
            shop = f"shop-{share}-{run}"
            mailed, holdout = [], []
            for n in range(args.customers):
                in_holdout = in_program_holdout(shop, f"c_{n}", share)
                buys = rng.random() < (args.p_holdout if in_holdout else args.p_mailed)
                spend = round(MEDIAN_MINOR * math.exp(rng.gauss(0, SIGMA))) if buys else 0
                (holdout if in_holdout else mailed).append(spend)
            truth = (args.p_mailed - args.p_holdout) * mean_spend * len(mailed)
            answer = program_lift(totals(mailed), totals(holdout), exponent=2)["incremental_revenue"]
            held_total += len(holdout)
            truths.append(truth)
            if answer["estimate"] is None:
                no_number += 1
                continue
            estimates.append(answer["estimate"])
            widths.append(answer["high"] - answer["low"])
            covered += answer["low"] <= truth <= answer["high"]
        stated = args.runs - no_number
        print(f"{share:>7}% {held_total / args.runs:>6.0f} {statistics.mean(truths):>15,.0f} "
              f"{statistics.mean(estimates) if estimates else float('nan'):>14,.0f} "
              f"{statistics.mean(widths) if widths else float('nan'):>11,.0f} "
              f"{covered / stated if stated else float('nan'):>9.1%} {no_number / args.runs:>10.1%}")


if __name__ == "__main__":
    main()
