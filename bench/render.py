"""Per-recipient cost of rendering the post-purchase e-mail, three ways.

    python -m bench.render [--recipients N] [--locale uk] [--node-dir DIR] [--no-node]

(a) what the service does: the MJML compiled once (cached), then Jinja per recipient for
    the HTML and the plain-text part (subject and preheader included);
(b) compiling the MJML for every recipient: Jinja on the MJML source, then ``mjml2html``
    (MRML, Rust), then the same text part;
(c) MJML's JavaScript reference (npm ``mjml`` 5, ``mjml2html`` returns a Promise): one Node
    process compiles the MJML of one recipient N times and prints its own timing.

The recipients differ (names, items, amounts, balances) so nothing is memoized across
them. Node's mjml is installed on first use with ``npm install --prefix DIR mjml@5.4.1`` into
``--node-dir`` (default ``/tmp/loyalty-mail-bench-node``: outside the repository, which
has no ignore rule for it). Figures are this machine's: compare the ratios, not the ms.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.mail.compiler import HTML_ENV, assemble, compile_mjml
from chalicelib.mail.rendering import MARKETING_TEMPLATES, TemplateSet, sample_context

TEMPLATE = "post_purchase"
GOAL_MS = 0.5
GOAL_RATIO = 20.0
DEFAULT_NODE_DIR = Path("/tmp/loyalty-mail-bench-node")
MJML_NPM_VERSION = "5.4.1"  # pinned: the reference's speed changes between releases
_NAMES = ["Олена", "Андрій", "Марія", "Тарас", "Ірина", "Jonas", "Emily", None, "<script>x</script>", "Юлія"]
_NODE_SCRIPT = r"""
const mjml2html = require(process.argv[2]);
const source = require('fs').readFileSync(process.argv[3], 'utf8');
const n = parseInt(process.argv[4], 10);
const options = { validationLevel: 'skip', minify: false, keepComments: false, fonts: {} };
(async () => {
  for (let i = 0; i < 30; i++) await mjml2html(source, options);   // warm up the JIT
  const start = process.hrtime.bigint();
  let size = 0;
  for (let i = 0; i < n; i++) { const out = await mjml2html(source, options); size += out.html.length; }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const version = require(process.argv[2] + '/package.json').version;
  console.log(JSON.stringify({ n, ms_per_render: ms / n, version, bytes: size / n }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def recipients(locale: str, count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    base = sample_context(TEMPLATE, locale)
    contexts = []
    for i in range(count):
        context = copy.deepcopy(base)
        context["customer"]["first_name"] = _NAMES[i % len(_NAMES)]
        lines = context["order"]["lines"][: 1 + i % 4]
        for line in lines:
            line["quantity"] = rng.randint(1, 3)
            line["total_minor"] = line["quantity"] * rng.randint(9_900, 249_900)
        context["order"]["lines"] = lines
        context["order"]["total_minor"] = sum(line["total_minor"] for line in lines)
        context["order"]["name"] = f"#{1000 + i}"
        context["points_earned"] = context["order"]["total_minor"] // 2000
        context["cashback_earned_minor"] = context["order"]["total_minor"] * 2 // 100
        account = context["account"]
        account["points_balance"] = rng.randint(0, 25_000)
        account["balance_value_minor"] = account["points_balance"] * 100
        account["spend_to_next_minor"] = rng.randint(100, 300_000)
        if account["expiry"]:
            account["expiry"]["points"] = rng.randint(1, 900)
        contexts.append(context)
    return contexts


def per_recipient_ms(function, contexts: list[dict], rounds: int) -> float:
    for context in contexts[:20]:
        function(context)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for context in contexts:
            function(context)
        best = min(best, (time.perf_counter() - start) * 1000 / len(contexts))
    return best


def node_reference(node_dir: Path, mjml_file: Path, count: int) -> tuple[float | None, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "node/npm not found"
    package = node_dir / "node_modules" / "mjml"
    manifest = package / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text(encoding="utf-8"))["version"] != MJML_NPM_VERSION:
        print(f"installing mjml@{MJML_NPM_VERSION} into {node_dir} (npm) ...", file=sys.stderr)
        node_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(node_dir), f"mjml@{MJML_NPM_VERSION}", "--no-audit", "--no-fund",
                               "--loglevel=error"], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return None, f"npm install failed: {done.stderr.strip()[-300:]}"
    script = node_dir / "render_bench.js"
    script.write_text(_NODE_SCRIPT, encoding="utf-8")
    done = subprocess.run([node, str(script), str(package), str(mjml_file), str(count)], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        return None, f"node failed: {done.stderr.strip()[-300:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["ms_per_render"], f"mjml {result['version']}, Node {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=500, help="distinct recipients per round (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best is reported (default 5)")
    parser.add_argument("--locale", default="uk", choices=("en", "de", "ru", "uk"))
    parser.add_argument("--node-dir", type=Path, default=DEFAULT_NODE_DIR)
    parser.add_argument("--node-renders", type=int, default=300)
    parser.add_argument("--no-node", action="store_true", help="skip (c)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    templates = TemplateSet.default()
    contexts = recipients(args.locale, args.recipients)

    # (a) compiled once, Jinja per recipient
    start = time.perf_counter()
    templates.render(TEMPLATE, args.locale, contexts[0])
    first_ms = (time.perf_counter() - start) * 1000
    a_ms = per_recipient_ms(lambda c: templates.render(TEMPLATE, args.locale, c), contexts, args.rounds)

    # (b) MJML compiled per recipient: Jinja on the MJML, then mjml2html, plus the text part
    version, content = templates.source(TEMPLATE)
    mjml_source, _ = assemble(TEMPLATE, args.locale, content, marketing=TEMPLATE in MARKETING_TEMPLATES)
    mjml_template = HTML_ENV.from_string(mjml_source)

    def per_recipient_compile(context: dict) -> str:
        _, values = templates.prepare(TEMPLATE, args.locale, context)
        return compile_mjml(mjml_template.render(values))

    b_contexts = contexts[: max(50, len(contexts) // 5)]
    b_ms = per_recipient_ms(per_recipient_compile, b_contexts, args.rounds)

    # (c) the JavaScript reference on one recipient's MJML
    c_ms, c_note = None, "skipped (--no-node)"
    if not args.no_node:
        _, values = templates.prepare(TEMPLATE, args.locale, contexts[1])
        mjml_file = args.node_dir / f"{TEMPLATE}.{args.locale}.mjml"
        args.node_dir.mkdir(parents=True, exist_ok=True)
        mjml_file.write_text(mjml_template.render(values), encoding="utf-8")
        c_ms, c_note = node_reference(args.node_dir, mjml_file, args.node_renders)

    cpu = platform.processor() or platform.machine()
    print(f"\nPer-recipient render cost of {TEMPLATE} ({args.locale}), HTML + text. This machine's figures:")
    print(f"Python {platform.python_version()}, {cpu}, {os.cpu_count()} CPUs; best of {args.rounds} rounds "
          f"over {len(contexts)} distinct recipients ((b): {len(b_contexts)}).\n")
    rows = [
        ("(a) compiled MJML (cached) + Jinja per recipient", a_ms),
        ("(b) Jinja on MJML + mjml2html per recipient", b_ms),
        (f"(c) MJML JavaScript reference ({c_note})", c_ms),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'case':<{width}}  {'ms/recipient':>12}  {'× (a)':>8}")
    for label, ms in rows:
        shown = f"{ms:12.3f}" if ms is not None else f"{'n/a':>12}"
        ratio = f"{ms / a_ms:8.1f}" if ms is not None else f"{'':>8}"
        print(f"{label:<{width}}  {shown}  {ratio}")
    if args.json:
        args.json.write_text(json.dumps({
            "template": TEMPLATE, "locale": args.locale, "recipients": len(contexts), "rounds": args.rounds,
            "rows": [{"case": label, "ms_per_recipient": ms, "times_a": ms / a_ms if ms is not None else None}
                     for label, ms in rows], "first_render_ms": first_ms}, indent=2), encoding="utf-8")
    print(f"\nfirst render in this process (MJML compile + Jinja compile + render): {first_ms:.1f} ms")
    print(f"goal (a) < {GOAL_MS} ms: {'met' if a_ms < GOAL_MS else 'NOT met'} ({a_ms:.3f} ms)")
    if c_ms is not None:
        ratio = c_ms / a_ms
        print(f"goal (a) at least {GOAL_RATIO:.0f}× faster than (c): {'met' if ratio >= GOAL_RATIO else 'NOT met'} "
              f"({ratio:.0f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
