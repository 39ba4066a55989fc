"""The shifted-clock run's shim (tests/clock_shift/sitecustomize.py) keeps the C environment still,
because libfaketime reads it from every thread's timed wait and glibc's setenv may move it under
them (a crashed worker in CI). Checked without libfaketime: the shim alone, in a fresh process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SHIM = Path(__file__).resolve().parents[1] / "clock_shift"

_PROBE = r"""
import ctypes, json, os, subprocess, sys, time
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
os.environ["SHIM_PROBE"] = "set in Python"
in_c = libc.getenv(b"SHIM_PROBE")
started = time.monotonic()
time.sleep(0.05)
child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('SHIM_PROBE'))"],
                       capture_output=True, text=True, check=True)
del os.environ["SHIM_PROBE"]
grandchild_sees_removal = subprocess.run([sys.executable, "-c", "import os; print('SHIM_PROBE' in os.environ)"],
                                         capture_output=True, text=True, check=True).stdout.strip()
print(json.dumps({"c_environment": in_c, "child": child.stdout.strip(),
                  "removed_in_child": grandchild_sees_removal == "False",
                  "slept": time.monotonic() - started >= 0.05}))
"""


def test_environment_writes_stay_in_python_and_reach_child_processes():
    env = {key: value for key, value in os.environ.items() if key != "SHIM_PROBE"}
    env["PYTHONPATH"] = str(SHIM)
    result = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"c_environment": None, "child": "set in Python",
                                         "removed_in_child": True, "slept": True}
