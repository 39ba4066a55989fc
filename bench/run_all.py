"""`make bench`: every benchmark in one run, a table per claim, written to docs/benchmarks.md.

    python -m bench.run_all [--quick] [--out docs/benchmarks.md]

Runs each script in its own process (so imports and emulators never mix), has
each write its figures as JSON, prints them and renders docs/benchmarks.md.
``--quick`` shrinks the sizes (and leaves the 100,000-customer daily-jobs run out)
to finish in a few minutes; the file says which mode made it. Ratios are
measured in one run on one machine; absolute times are that machine's.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.cost import LambdaModel, PRICES_AS_OF, PRICES_USD, per_million_emails, per_million_orders

ROOT = Path(__file__).resolve().parents[1]

FULL = {
    "webhook_requests": ["--orders", "100"],
    "webhook_cpu": ["--orders", "200"],
    "render": ["--recipients", "500", "--rounds", "5"],
    "campaign": ["--recipients", "300", "--workers", "4", "--ses-latency-ms", "60", "--send-rate", "14"],
    "import_and_package": ["--runs", "15"],
    "daily_reads": ["--sizes", "1000,10000,100000"],
}
QUICK = {
    "webhook_requests": ["--orders", "30"],
    "webhook_cpu": ["--orders", "60"],
    "render": ["--recipients", "200", "--rounds", "3"],
    "campaign": ["--recipients", "150", "--workers", "4", "--ses-latency-ms", "60", "--send-rate", "14"],
    "import_and_package": ["--runs", "7"],
    "daily_reads": ["--sizes", "1000,10000"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no 100,000-customer run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", help="comma-separated scripts to run (the file is written only for all)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.only:
        plan = {name: options for name, options in plan.items() if name in args.only.split(",")}

    results: dict[str, dict] = {}
    commands: dict[str, str] = {}
    failed = []
    with tempfile.TemporaryDirectory(prefix="loyalty-bench-") as scratch:
        for name, options in plan.items():
            target = Path(scratch) / f"{name}.json"
            command = [sys.executable, "-m", f"bench.{name}", *options, "--json", str(target)]
            commands[name] = f"python -m bench.{name} {' '.join(options)}"
            print(f"\n$ {commands[name]}", flush=True)
            started = time.perf_counter()
            if subprocess.call(command, cwd=ROOT) != 0 or not target.exists():
                failed.append(name)
                continue
            results[name] = json.loads(target.read_text(encoding="utf-8"))
            results[name]["_seconds"] = time.perf_counter() - started
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if set(results) != set(FULL):
        return 0
    markdown = render_markdown(results, commands, quick=args.quick)
    args.out.write_text(markdown, encoding="utf-8")
    print("\n" + markdown)
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


# -- docs/benchmarks.md --------------------------------------------------------------------------
def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}, {platform.system()}; "
            f"load average when the file was written {load}")


def render_markdown(results: dict[str, dict], commands: dict[str, str], *, quick: bool) -> str:
    model = LambdaModel()
    webhook, cpu, render = results["webhook_requests"], results["webhook_cpu"], results["render"]
    campaign, imports, daily = results["campaign"], results["import_and_package"], results["daily_reads"]
    orders = per_million_orders(webhook["rows"], cpu["rows"], model)
    emails = per_million_emails(campaign, model)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m bench.run_all{' --quick' if quick else ''}`) on {now}; "
        f"mode: **{'quick' if quick else 'full'}**.",
        f"Machine: {_machine()}. Every figure below comes from that one run. Ratios hold across machines; "
        "**absolute times (ms, s, per second) are this machine's**, with AWS answered by a local emulator, "
        "not Lambda's or DynamoDB's.",
        "",
        "## Webhook path: DynamoDB requests and capacity units",
        "",
        f"`{commands['webhook_requests']}`: mean per delivery, counted at the emulator. Units are on-demand request "
        "units worked out from the sizes of the items each request touches (`bench/capacity.py`: 1 write unit per "
        "started KB, twice inside a transaction; 1 read unit per started 4 KB strongly consistent, twice in "
        "`TransactGetItems`; index WRU = global secondary index writes). The floor is the least any webhook that "
        "records something could cost: one PutItem of its event record.",
        "",
    ]
    floor = next(row for row in webhook["rows"] if row["delivery"].startswith("floor"))
    floor_wru = floor["write_units"] + floor["index_write_units"]
    out.append(_table(
        ["delivery", "DynamoDB requests", "of which", "RRU", "WRU (table)", "WRU (indexes)", "WRU × floor",
         "SQS requests"],
        [[row["delivery"], f"{row['dynamodb_requests']:.2f}",
          ", ".join(f"{op} {n:.2f}".rstrip("0").rstrip(".") for op, n in row["requests"].items() if n) or "–",
          f"{row['read_units']:.1f}", f"{row['write_units']:.1f}", f"{row['index_write_units']:.1f}",
          f"{(row['write_units'] + row['index_write_units']) / floor_wru:.0f}", f"{row['sqs_requests']:.1f}"]
         for row in webhook["rows"]]))
    out += [
        "",
        "A paid order writes its whole effect in one transaction: event record, profile (also in the `by_shop`, "
        "`by_birthday`, `by_last_order` indexes), point lot (`by_due_day`), ledger entries, order record, outbox "
        "message; the price of exactly-once is the transaction's double write units.",
        "",
        "### Handler CPU time per webhook",
        "",
        f"`{commands['webhook_cpu']}`: `time.process_time` around the handler, median; the emulator runs in another "
        "process, so only the handler's own work is counted (signature, parsing, rules, botocore), not the "
        "emulator's. The floor is one PutItem through the same client.",
        "",
        _table(["delivery", "CPU ms (this machine)", "× floor"],
               [[kind, f"{row['cpu_ms']:.2f}", f"{row['times_floor']:.1f}"] for kind, row in cpu["rows"].items()]),
        "",
        "## E-mail render per recipient",
        "",
        f"`{commands['render']}`: the `{render['template']}` template ({render['locale']}), HTML and text, "
        f"{render['recipients']} distinct recipients, best of {render['rounds']} rounds, all three in one run.",
        "",
        _table(["case", "ms per recipient (this machine)", "× (a)"],
               [[row["case"], f"{row['ms_per_recipient']:.3f}" if row["ms_per_recipient"] is not None else "n/a",
                 f"{row['times_a']:.1f}" if row["times_a"] is not None else ""] for row in render["rows"]]),
        "",
        "## Campaign throughput through the queue path",
        "",
        f"`{commands['campaign']}`: {campaign['recipients']} recipients, the campaign sender queuing to SQS while "
        f"{campaign['workers']} workers run the send handler; every SES call takes {campaign['ses_latency_ms']:.0f} "
        f"ms (simulated), all workers share a sending rate of {campaign['send_rate']:g} per second "
        f"(`LOYALTY_SES_MAX_SEND_RATE`); {campaign['redeliver']:.0%} of messages are delivered twice.",
        "",
        _table(["figure", "value"], [
            ["e-mails accepted by SES", campaign["emails"]],
            ["distinct recipients", campaign["distinct_recipients"]],
            ["duplicates", campaign["duplicates"]],
            ["wall time (this machine)", f"{campaign['wall_seconds']:.1f} s"],
            ["e-mails per second (this machine; cap "
             f"{campaign['send_rate']:g})", f"{campaign['recipients_per_second']:.1f}"],
            ["DynamoDB requests per e-mail", f"{campaign['per_email']['dynamodb_requests']:.2f}"],
            ["read / write units per e-mail",
             f"{campaign['per_email']['read_units']:.1f} / {campaign['per_email']['write_units']:.1f}"],
            ["SQS requests per e-mail (send, receive, delete, sender's share)",
             f"{campaign['per_email']['sqs_requests']:.2f}"],
            ["handler invocations per e-mail", f"{campaign['per_email']['handler_invocations']:.2f}"],
            ["handler CPU ms, median (this machine)", f"{campaign['per_email']['handler_cpu_ms']:.1f}"],
            ["handler wall ms, median (this machine, emulator + SES latency + rate wait)",
             f"{campaign['per_email']['handler_wall_ms']:.0f}"],
        ]),
        "",
        "## Lambda-seconds and AWS cost per 1 million",
        "",
        f"`bench/cost.py`: the counts above times {PRICES_AS_OF} (DynamoDB on-demand "
        f"${PRICES_USD['dynamodb_write_unit'] * 1e6:.3f} per million write units and "
        f"${PRICES_USD['dynamodb_read_unit'] * 1e6:.3f} per million read units; Lambda "
        f"${PRICES_USD['lambda_gb_second']:.10f} per GB-s and ${PRICES_USD['lambda_request'] * 1e6:.2f} per million "
        f"requests; SQS ${PRICES_USD['sqs_request'] * 1e6:.2f} per million requests; SES "
        f"${PRICES_USD['ses_email'] * 1000:.2f} per 1,000 e-mails; API Gateway REST "
        f"${PRICES_USD['api_gateway_request'] * 1e6:.2f} per million). Lambda duration is modelled: measured CPU time "
        f"at {model.memory_mb} MB ({model.memory_mb / model.vcpu_memory_mb:.2f} vCPU) plus "
        f"{model.round_trip_ms:g} ms per AWS request plus the SES answer time. An order here is a paid order's "
        "webhook (its post-purchase e-mail is one of the e-mails).",
        "",
        _table(["", "per 1 million paid orders", "per 1 million e-mails"],
               [["Lambda duration per invocation (modelled)", f"{orders['duration_ms']:.0f} ms",
                 f"{emails['duration_ms']:.0f} ms"],
                ["Lambda-seconds", f"{orders['lambda_seconds']:,.0f}", f"{emails['lambda_seconds']:,.0f}"]]
               + [[line, _usd(orders["usd"][line]), _usd(emails["usd"][line])] for line in orders["usd"]]
               + [["**total**", f"**{_usd(orders['usd_total'])}**", f"**{_usd(emails['usd_total'])}**"]]),
        "",
        "## Cold start: `import app` and the deployment package",
        "",
        f"`{commands['import_and_package']}`: wall time of a fresh `python -c ...`, median, the bare interpreter's "
        f"start ({imports['bare_interpreter_ms']:.0f} ms) subtracted.",
        "",
        _table(["import", "ms (this machine)", "× import boto3"],
               [["import boto3", f"{imports['import_boto3_ms']:.0f}", "1.0"],
                ["import app", f"{imports['import_app_ms']:.0f}",
                 f"{imports['import_app_ms'] / imports['import_boto3_ms']:.2f}"]]),
        "",
        "Heaviest packages in `import app` (`-X importtime`, ms of their own modules): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in imports["heaviest_in_import_app"]) + ".",
        "",
    ]
    package = imports.get("package")
    if package:
        out += [
            f"Deployment package (`chalice package --stage dev`): **{package['zip_bytes'] / 1e6:.1f} MB** zipped, "
            f"{package['unpacked_bytes'] / 1e6:.1f} MB unpacked (Lambda's limit: 250 MB unpacked), "
            f"{package['files']} files. Largest entries unpacked: "
            + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in package["largest"]) + ".",
            "",
        ]
    out += [
        "## Daily jobs: items read against the shop's size",
        "",
        f"`{commands['daily_reads']}`: {daily['due']} customers due per job; the reads follow the customers due, "
        "not the shop. (Seconds grow with the table only because the emulator walks its items to answer an index "
        "query; DynamoDB does not.)",
        "",
        _table(["customers", "job", "index items read", "accounts read", "DynamoDB read requests", "acted on",
                "seconds (this machine)"],
               [[f"{row['customers']:,}", row["job"], row["index_items"], row["accounts_read"], row["read_requests"],
                 row["acted_on"], f"{row['seconds']:.2f}"] for row in daily["rows"]]),
        "",
    ]
    if quick:
        out += ["Quick mode: the 100,000-customer run is left out; `make bench` (full) includes it.", ""]
    out += [kept_send_path_section()]
    return "\n".join(out)


SEND_PATH_BEGIN, SEND_PATH_END = "<!-- send-path: begin -->", "<!-- send-path: end -->"


def kept_send_path_section(path: Path = ROOT / "docs" / "benchmarks.md") -> str:
    """The send path's before/after section (``python -m bench.send_path --compare-with REV``, written
    by hand from one run, with the cost model) is carried over as it is: a regular run has no
    "before" to measure."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = text.find(SEND_PATH_BEGIN), text.find(SEND_PATH_END)
    return text[start:end + len(SEND_PATH_END)] + "\n" if 0 <= start < end else ""


if __name__ == "__main__":
    sys.exit(main())
