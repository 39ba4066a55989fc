"""The house rules that imports can show: the contracts in .importlinter hold (floors, feature
order, no cycles at any depth, a pure domain, no development module in the runtime), and no
module reads the environment or the wall clock behind its callers' backs."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (module, attribute) reads that are hidden inputs: the environment and the wall clock.
HIDDEN_READS = {("os", "environ"), ("os", "getenv"), ("datetime", "now"), ("datetime", "utcnow"),
                ("date", "today"), ("time", "time")}
# The one door for each: config.py reads the environment once per cold start, clock.py is the
# system clock the composition root hands to services. The SES rate counter counts real epoch
# seconds shared by every worker (its default timer; tests pass their own).
ALLOWED = {"chalicelib/config.py": {("os", "environ")}, "chalicelib/clock.py": {("datetime", "now")},
           "chalicelib/mail/rate_limit.py": {("time", "time")}}


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")  # the pinned one, next to this Python
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(lint_imports), "--no-cache", "--config", str(ROOT / ".importlinter")],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout and " kept" in result.stdout


def _hidden_reads(path: Path) -> set[tuple[str, str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and (node.value.id, node.attr) in HIDDEN_READS:
            found.add((node.value.id, node.attr, node.lineno))
        if isinstance(node, ast.ImportFrom) and node.module in ("os", "datetime", "time"):
            for alias in node.names:  # `from os import environ` would hide the read from the check above
                if (node.module, alias.name) in HIDDEN_READS:
                    found.add((node.module, alias.name, node.lineno))
    return found


def test_only_config_reads_the_environment_and_only_the_clock_reads_the_time():
    offenders = []
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        for module, attribute, line in sorted(_hidden_reads(path)):
            if (module, attribute) not in ALLOWED.get(name, set()):
                offenders.append(f"{name}:{line}: {module}.{attribute}")
    assert offenders == []


def test_only_entry_points_reach_the_composition_root():
    """Services get their dependencies passed in: the composition root is imported by the
    Blueprints (and devstack, bench, tests), by nothing else in the runtime."""
    importers = []
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith("chalicelib/routes/") or name == "chalicelib/composition.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), name)):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module == "chalicelib.composition"
                    or (node.module == "chalicelib" and any(a.name == "composition" for a in node.names))):
                importers.append(name)
            if isinstance(node, ast.Import) and any(a.name == "chalicelib.composition" for a in node.names):
                importers.append(name)
    assert importers == []
