"""``import app`` is what every cold start of every function pays: it loads Chalice and the
Blueprints, while the use cases they call, and under them the e-mail rendering stack (Jinja2,
MJML, Babel), PynamoDB, botocore and pydantic, wait for a handler's first call
(chalicelib/first_use.py). The test names the modules a cold start must not run; what that saves is
measured, not asserted (a CPU-time ratio swings with the machine: 0.49 here, 1.08 on a CI runner):
``python -m bench.send_path`` prints ``import_app_vs_boto3``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
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



# The import-time budget, counted rather than timed: the modules a cold start runs. ``import app``
# ran 158 (53 of them ours) when this was set, ``import boto3`` 357; a use case pulled back into
# cold start brings PynamoDB and botocore with it, several hundred more.
MODULES_RUN_BUDGET = 200


def test_import_app_runs_fewer_modules_than_the_budget():
    probe = _fresh_import()
    baseline = set(json.loads(subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
                                             cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout))
    ran = [name for name in probe["modules"] if name not in baseline]
    assert len(ran) <= MODULES_RUN_BUDGET, sorted(ran)
