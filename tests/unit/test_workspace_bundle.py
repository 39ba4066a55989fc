"""The committed workspace bundle (chalicelib/static/) is the build of the committed sources."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "workspace"
STATIC = ROOT / "chalicelib" / "static"


def _sources_hash() -> str:
    """The same digest workspace/build.mjs writes next to the bundle."""
    files = ["package.json", "package-lock.json", "build.mjs"] + [
        f"src/{path.name}" for path in sorted((WORKSPACE / "src").iterdir(), key=lambda p: p.name)]
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (WORKSPACE / name).read_bytes() + b"\0")
    return digest.hexdigest()


def test_bundle_was_built_from_the_committed_sources():
    assert (STATIC / "SOURCES_SHA256").read_text().strip() == _sources_hash(), (
        "workspace/ changed since the bundle was built: run `make workspace` and commit chalicelib/static/")
    assert (STATIC / "app.js").stat().st_size > 100_000 and (STATIC / "app.css").stat().st_size > 1_000


@pytest.mark.skipif(not (WORKSPACE / "node_modules").is_dir() or not shutil.which("node"),
                    reason="workspace/node_modules not installed (make workspace installs it)")
def test_rebuilding_gives_the_committed_bundle_byte_for_byte(tmp_path):
    subprocess.run(["node", "build.mjs"], cwd=WORKSPACE, check=True, timeout=120,
                   env={"PATH": os.environ["PATH"], "WORKSPACE_OUT_DIR": str(tmp_path)})
    for name in ("app.js", "app.css", "SOURCES_SHA256"):
        assert (tmp_path / name).read_bytes() == (STATIC / name).read_bytes(), name
