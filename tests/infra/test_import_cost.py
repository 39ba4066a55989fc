"""``import app`` is what every cold start of every function pays: it must not load the
e-mail rendering stack (Jinja2, MJML, Babel) or boto3, which only some handlers need,
and it stays within a wall-time budget generous enough for a loaded 2-core CI machine.
``python -m bench.deploy_figures`` prints the measured times."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Measured on this project's 2-core machine (python -m bench.deploy_figures): 0.4 s idle, 1.1 s while
# other test suites ran (import boto3: 0.15 s and 0.35 s). The budget is the median of three fresh
# interpreters against about three times the loaded figure, so a busy CI machine does not fail it;
# it catches gross growth, the module check above catches the rendering stack or boto3 coming back.
IMPORT_BUDGET_SECONDS = 3.0
DEFERRED = ("mjml", "jinja2", "babel", "boto3", "chalicelib.mail.rendering", "chalicelib.mail.compiler")

_PROBE = """
import json, sys, time
started = time.perf_counter()
import app
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "modules": sorted(sys.modules)}))
"""


def _fresh_import() -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOYALTY_")}
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=PROJECT_DIR, env=env, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


def test_import_app_leaves_the_heavy_modules_to_the_handlers_that_need_them():
    loaded = set(_fresh_import()["modules"])
    assert not [name for name in DEFERRED if name in loaded]
    assert "app" in loaded and "chalice" in loaded


def test_import_app_stays_within_its_budget():
    times = sorted(_fresh_import()["seconds"] for _ in range(3))
    assert statistics.median(times) < IMPORT_BUDGET_SECONDS, times
