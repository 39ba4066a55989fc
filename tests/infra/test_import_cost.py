"""``import app`` is what every cold start of every function pays: it loads Chalice and the
Blueprints, while the use cases they call, and under them the e-mail rendering stack (Jinja2,
MJML, Babel), PynamoDB, botocore and pydantic, wait for a handler's first call
(chalicelib/first_use.py). Its CPU time stays within a budget set against ``import boto3``'s.
``python -m bench.send_path`` prints the measured ratio."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# The budget is a ratio of CPU times, ``import app`` over ``import boto3``, each the median of three
# fresh interpreters: a busy machine slows both alike (wall time here went from 0.4 s idle to 2 s
# with other suites running). Issue 20's goal is 1.5; with the use cases imported on first use the
# ratio measured 0.52-0.59 at a load average of 10 on 2 cores (2.4-3.1 before). The margin over that
# is for noise: a Blueprint importing a use case at cold start again costs more than it
# (chalicelib.services.access.admin_auth alone, with PynamoDB and botocore under it, measured 2.3),
# and the module check below names what came back.
IMPORT_VS_BOTO3_BUDGET = 0.75
DEFERRED = ("mjml", "jinja2", "babel", "boto3", "botocore", "pynamodb", "pydantic", "email_validator",
            "chalicelib.mail.rendering", "chalicelib.mail.compiler", "chalicelib.store.models")

# A module imported on first use is in sys.modules from the import on, but has not run: "loaded"
# counts the modules that ran.
_PROBE = """
import json, sys, time
started = time.process_time()
import {module}
elapsed = time.process_time() - started
from chalicelib.first_use import is_waiting
loaded = sorted(name for name, module in sys.modules.items() if module is not None and not is_waiting(module))
print(json.dumps({{"cpu_seconds": elapsed, "modules": loaded}}))
"""


def _fresh_import(module: str = "app") -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOYALTY_")}
    result = subprocess.run([sys.executable, "-c", _PROBE.format(module=module)], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_import_app_leaves_the_heavy_modules_to_the_handlers_that_need_them():
    loaded = set(_fresh_import()["modules"])
    assert not [name for name in DEFERRED if name in loaded]
    assert "app" in loaded and "chalice" in loaded
    assert not [name for name in loaded if name.startswith("chalicelib.services.") and name.count(".") > 2]


def test_import_app_costs_less_cpu_than_import_boto3():
    _fresh_import(), _fresh_import("boto3")  # bytecode caches written
    app_cpu = statistics.median(_fresh_import()["cpu_seconds"] for _ in range(3))
    boto3_cpu = statistics.median(_fresh_import("boto3")["cpu_seconds"] for _ in range(3))
    assert app_cpu / boto3_cpu <= IMPORT_VS_BOTO3_BUDGET, (app_cpu, boto3_cpu)
