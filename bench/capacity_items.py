"""Which items a delivery or an e-mail writes and reads, each with its size and its units.

    python -m bench.capacity_items ITEMS.json [ITEMS.json ...] [--before ITEMS.json ...]

Reads the ``--items`` files of ``bench.webhook_requests`` and ``bench.campaign`` (the metered
emulator's row per item: bench.capacity) and prints, per kind of delivery (a paid order, a refund,
one sent e-mail), one line per item and request: how many per delivery, its mean size in bytes,
its read units, write units and index write units per delivery (by index). With ``--before``, each
figure as before → after, the before taken from those files (same kinds of delivery).
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Optional


def summarize(samples: list[list[dict]], per: float | None = None) -> list[dict]:
    """``samples``: the rows of each delivery; ``per``: what to divide by (default: the samples)."""
    per = per or max(1, len(samples))
    lines: dict[tuple, dict] = {}
    for rows in samples:
        for row in rows:
            how = row.get("write") or f"{row.get('read')} {row.get('query', '')}".strip()
            key = (row["item"], row["operation"], how)
            line = lines.setdefault(key, {"item": row["item"], "request": row["operation"], "how": how,
                                          "count": 0, "bytes": 0, "rru": 0.0, "wru": 0.0,
                                          "index_wru": defaultdict(float)})
            line["count"] += 1
            line["bytes"] += row["bytes"]
            line["rru"] += row["rru"]
            line["wru"] += row["wru"]
            for index, units in row["index_wru"].items():
                line["index_wru"][index] += units
    out = []
    for line in lines.values():
        out.append({"item": line["item"], "request": line["request"], "how": line["how"],
                    "per_delivery": line["count"] / per, "bytes": round(line["bytes"] / line["count"]),
                    "rru": line["rru"] / per, "wru": line["wru"] / per,
                    "index_wru": {k: v / per for k, v in sorted(line["index_wru"].items())}})
    return sorted(out, key=lambda l: (-(l["wru"] + sum(l["index_wru"].values()) + l["rru"]), l["item"]))


def markdown(kind: str, lines: list[dict]) -> str:
    out = [f"**{kind}**", "",
           "| item | request | n | bytes | RRU | WRU | index WRU |", "|---|---|---|---|---|---|---|"]
    for l in lines:
        index = ", ".join(f"{name} {units:g}" for name, units in l["index_wru"].items()) or "0"
        out.append(f"| {l['item']} | {l['request']} ({l['how']}) | {l['per_delivery']:g} | {l['bytes']} "
                   f"| {l['rru']:g} | {l['wru']:g} | {index} |")
    total = lambda key: sum(l[key] for l in lines)  # noqa: E731
    out.append(f"| **total** | | | | **{total('rru'):g}** | **{total('wru'):g}** | "
               f"**{sum(sum(l['index_wru'].values()) for l in lines):g}** |")
    return "\n".join(out)


def compared(kind: str, before: list[dict], after: list[dict]) -> str:
    """One table of ``kind``: each item's figures before → after (— where it is not read or written)."""
    def key(line: dict) -> tuple:
        # a write by its kind (Put, Update…); a read by its request and index, whatever its consistency
        words = line["how"].split()
        read = words[0] in ("strong", "eventual", "transactional")
        return line["item"], line["request"], (" ".join(words[1:]) if read else line["how"])

    def index_units(line: Optional[dict]) -> float:
        return sum(line["index_wru"].values()) if line else 0.0

    old, new = {key(l): l for l in before}, {key(l): l for l in after}
    out = [f"**{kind}**", "", "| item | request | n | bytes | RRU | WRU | index WRU |", "|---|---|---|---|---|---|---|"]

    def pair(a: Optional[dict], b: Optional[dict], field) -> str:
        value = (lambda l: index_units(l)) if field == "index" else (lambda l: l[field])
        left, right = (f"{value(a):g}" if a else "—"), (f"{value(b):g}" if b else "—")
        return left if left == right else f"{left} → {right}"

    for k in list(new) + [k for k in old if k not in new]:
        a, b = old.get(k), new.get(k)
        index_names = ", ".join(sorted({*(a or {}).get("index_wru", {}), *(b or {}).get("index_wru", {})}))
        how = (a or b)["how"] if not (a and b) or a["how"] == b["how"] else f"{a['how']} → {b['how']}"
        out.append(f"| {k[0]} | {k[1]} ({how}) | {pair(a, b, 'per_delivery')} | {pair(a, b, 'bytes')} "
                   f"| {pair(a, b, 'rru')} | {pair(a, b, 'wru')} | {pair(a, b, 'index')}"
                   f"{f' ({index_names})' if index_names else ''} |")

    def total(lines, field):
        return sum(index_units(l) for l in lines) if field == "index" else sum(l[field] for l in lines)

    out.append("| **total** | | | | " + " | ".join(
        f"**{total(before, f):g}**" if round(total(before, f), 6) == round(total(after, f), 6)
        else f"**{total(before, f):g} → {total(after, f):g}**" for f in ("rru", "wru", "index")) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--before", nargs="+", type=Path, default=[], help="the same figures before a change")
    args = parser.parse_args()
    before = {kind: lines for path in args.before for kind, lines in json.loads(path.read_text(encoding="utf-8")).items()}
    for path in args.files:
        for kind, lines in json.loads(path.read_text(encoding="utf-8")).items():
            print(compared(kind, before[kind], lines) if kind in before else markdown(kind, lines))
            print()


if __name__ == "__main__":
    main()
