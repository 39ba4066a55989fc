"""Cold-start cost: `import app` against a bare `import boto3`, and the deployment package's size.

    python -m bench.import_and_package [--runs 15] [--no-package] [--json FILE]

Each import is timed in a fresh interpreter (wall time of ``python -c ...``, median
of ``--runs``), next to an interpreter that imports nothing; the difference is
what a Lambda cold start pays for the import. ``-X importtime`` then names the
heaviest modules ``import app`` loads. The package is built with ``chalice
package`` into a temporary folder (offline: only ``AWS_DEFAULT_REGION`` is
needed), and its zip is measured, compressed and unpacked, with the largest
top-level entries. Times are this machine's.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall_ms(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=_env())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Lambda imports from compiled .pyc files too
    return env


def heaviest_imports(code: str, count: int = 8) -> list[tuple[str, float]]:
    """Top-level packages by the time their own modules take to import (``-X importtime``), in ms."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, check=True)
    by_package: Counter = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if own.isdigit():  # a module's own time, without what it imports: the sums add up
            by_package[name.split(".")[0]] += int(own) / 1000
    return by_package.most_common(count)


def package_size() -> dict:
    with tempfile.TemporaryDirectory(prefix="loyalty-package-") as out:
        env = _env()
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "dev", out], cwd=ROOT,
                       env=env, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        archive = Path(out) / "deployment.zip"
        with zipfile.ZipFile(archive) as zipped:
            entries = zipped.infolist()
            unpacked = sum(entry.file_size for entry in entries)
            by_top: Counter = Counter()
            for entry in entries:
                by_top[entry.filename.split("/")[0]] += entry.file_size
        return {"zip_bytes": archive.stat().st_size, "unpacked_bytes": unpacked, "files": len(entries),
                "largest": [(name, size) for name, size in by_top.most_common(8)], "build_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-package", action="store_true", help="skip chalice package")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    wall_ms("import app", 2)  # compile the .pyc files first, as the package would ship them
    bare = wall_ms("pass", args.runs)
    boto3 = wall_ms("import boto3", args.runs)
    app = wall_ms("import app", args.runs)
    result = {"runs": args.runs, "bare_interpreter_ms": bare, "import_boto3_ms": boto3 - bare,
              "import_app_ms": app - bare, "heaviest_in_import_app": heaviest_imports("import app")}
    print(f"Import cost in a fresh interpreter, median of {args.runs} (this machine; interpreter start "
          f"{bare:.0f} ms subtracted):")
    print(f"  import boto3   {boto3 - bare:7.0f} ms")
    print(f"  import app     {app - bare:7.0f} ms   ({(app - bare) / (boto3 - bare):.2f} × import boto3)")
    print("  heaviest packages in `import app` (ms of their own modules): "
          + ", ".join(f"{name} {ms:.0f}" for name, ms in result["heaviest_in_import_app"]))
    if not args.no_package:
        package = package_size()
        result["package"] = package
        print(f"\nDeployment package (chalice package --stage dev, {package['build_seconds']:.0f} s):")
        print(f"  deployment.zip {package['zip_bytes'] / 1e6:7.1f} MB compressed, "
              f"{package['unpacked_bytes'] / 1e6:.1f} MB unpacked, {package['files']} files")
        print("  largest entries unpacked: " + ", ".join(f"{name} {size / 1e6:.1f} MB"
                                                       for name, size in package["largest"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
