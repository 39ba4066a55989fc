"""`make bench`: the benchmarks that finish in a few minutes, one after another.

The long runs take their sizes as options: `python -m bench.daily_reads` (up to
100,000 customers), `python -m bench.campaign --recipients 10000` and
`python -m bench.import_history --orders 10000`.
"""
from __future__ import annotations

import subprocess
import sys

QUICK = [
    ["bench.webhook_requests", "--orders", "50"],
    ["bench.render"],
    ["bench.daily_reads", "--sizes", "1000,10000"],
    ["bench.campaign", "--recipients", "300"],
    ["bench.import_history", "--orders", "1000"],
]


def main() -> int:
    failed = 0
    for module, *options in QUICK:
        print(f"\n$ python -m {module} {' '.join(options)}", flush=True)
        failed += subprocess.call([sys.executable, "-m", module, *options]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
