"""Where the send handler's CPU goes, in the shares issue 20's item 3 asks about, from a profile
``bench.send_path --profile`` wrote (``BENCH_PROFILE_DUMP=FILE``; cProfile over CPU time):

    BENCH_PROFILE_DUMP=/tmp/send.prof python -m bench.send_path --profile 1 --orders 40
    python -m bench.send_path_shares /tmp/send.prof

- render + MIME: ``mailer._build`` (context, Jinja render, tracked links, MIME), all of it;
- DynamoDB transport: each request from the parameters PynamoDB built to the dict it gets back:
  the lean path (``lean_requests.plain_answer``: JSON, SigV4, ``http.client``) and botocore's
  client (serialiser, event hooks, endpoint rules, signing, urllib3, parser), with their parts;
- PynamoDB and our item mapping: PynamoDB's own functions and the store's (items to models and
  back, the transactions' request building), outside the transport;
- our glue: the rest (the use case, the send log's decisions, the cap, the batch's bookkeeping).

A profiler inflates Python calls more than C calls: the shares, not the milliseconds, are the point.
"""
from __future__ import annotations

import pstats
import sys

_TRANSPORT = {  # (file suffix, function) whose cumulative time is one DynamoDB request's transport
    "lean path": ("store/lean_requests.py", "plain_answer"),
    "botocore client": ("botocore/client.py", "_make_api_call"),
}
_TRANSPORT_PARTS = {
    "lean: JSON dumps + loads": [("json/__init__.py", "dumps"), ("json/__init__.py", "loads")],
    "lean: SigV4 signing (ours, botocore's bytes)": [("store/lean_requests.py", "_signed_headers")],
    "lean: HTTP exchange (store/lean_http.py; http.client before)": [("store/lean_requests.py", "_post")],
    "botocore: serialiser": [("botocore/serialize.py", "serialize_to_request")],
    "botocore: endpoint rules": [("botocore/client.py", "_resolve_endpoint_ruleset")],
    "botocore: signing": [("botocore/signers.py", "sign")],
    "botocore: urllib3 send": [("botocore/httpsession.py", "send")],
    "botocore: parser": [("botocore/parsers.py", "parse")],
    "botocore: event hooks (they run the signing: parts overlap)": [("botocore/hooks.py", "emit")],
}
_BUILD = ("services/mail/mailer.py", "_build")
_MAPPING_FILES = ("pynamodb/", "chalicelib/store/")


def shares(path: str) -> dict[str, float]:
    stats = pstats.Stats(path).stats
    total = sum(tt for (_, _, tt, _, _) in stats.values())

    def cumulative(file_suffix: str, name: str, within: str | None = None) -> float:
        found = 0.0
        for (file, _, function), (_, _, _, ct, callers) in stats.items():
            if function == name and file.endswith(file_suffix):
                if within is None:
                    found += ct
                else:  # only what callers inside the transport spent (json is used elsewhere too)
                    found += sum(v[3] for caller, v in callers.items() if caller[0].endswith(within))
        return found

    transport = {label: cumulative(*where) for label, where in _TRANSPORT.items()}
    parts = {}
    for label, wheres in _TRANSPORT_PARTS.items():
        within = "store/lean_requests.py" if label.startswith("lean: JSON") else None
        parts[label] = sum(cumulative(*where, within=within) for where in wheres)
    build = cumulative(*_BUILD)
    mapping = _own_time(stats, lambda file: any(marker in file for marker in _MAPPING_FILES)
                        and not file.endswith(("lean_requests.py", "lean_http.py")))
    moved = sum(transport.values()) + build + mapping
    result = {"total": total, "render + MIME": build, "DynamoDB transport": sum(transport.values()),
              **{f"  {label}": value for label, value in transport.items()},
              **{f"    {label}": value for label, value in parts.items() if value},
              "PynamoDB + our item mapping": mapping, "our glue (the rest)": total - moved}
    return result


def _own_time(stats, chosen) -> float:
    """Own time of the chosen files' functions, plus the builtins they call (shared out by caller)."""
    own = 0.0
    for (file, _, _), (_, _, tt, _, callers) in stats.items():
        if file == "~":
            for caller, v in callers.items():
                if chosen(caller[0]):
                    own += v[2]
        elif chosen(file):
            own += tt
    return own


def main() -> None:
    figures = shares(sys.argv[1])
    total = figures["total"]
    print("| part | share of the send handler's CPU |")
    print("|---|---|")
    for label, value in figures.items():
        if label != "total":
            print(f"| {label} | {100 * value / total:.1f} % |")


if __name__ == "__main__":
    main()
