"""Imports deferred to first use (chalicelib/first_use.py): a module imported in the block runs on
the first read of one of its attributes, exactly once, whichever thread reads first."""
from __future__ import annotations

import sys
import threading
import types
import uuid

import pytest

from chalicelib.first_use import imported_on_first_use, is_waiting

# Every probe module appends its name to this list when (and each time) it runs.
RUNS: list[str] = []


@pytest.fixture
def probe_package(tmp_path, monkeypatch):
    """A fresh package on sys.path, its modules recording their runs in RUNS; gone afterwards."""
    name = f"first_use_probe_{uuid.uuid4().hex[:8]}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    RUNS.clear()

    def module(module_name: str, body: str = "") -> str:
        (package / f"{module_name}.py").write_text(
            f"from tests.unit.test_first_use import RUNS\nRUNS.append(__name__)\n{body}\n", encoding="utf-8")
        return f"{name}.{module_name}"

    module.package = name
    yield module
    for loaded in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
        del sys.modules[loaded]


def _import(qualified: str, prefix: str):
    with imported_on_first_use(prefix=prefix):
        __import__(qualified)
    return sys.modules[qualified]


def test_a_module_imported_in_the_block_runs_on_the_first_read_of_an_attribute_and_only_then(probe_package):
    name = probe_package("rules", "def earn(amount):\n    return amount // 10\n")

    rules = _import(name, probe_package.package)

    assert RUNS == [] and is_waiting(rules)
    assert rules.earn(250) == 25
    assert RUNS == [name]
    assert type(rules) is types.ModuleType and not is_waiting(rules)
    assert rules.earn(90) == 9 and RUNS == [name]


def test_the_import_system_reading_a_waiting_module_does_not_run_it(probe_package):
    name = probe_package("rules", "VALUE = 1")
    rules = _import(name, probe_package.package)

    # A second import statement, elsewhere, and what tools read before running anything.
    __import__(name)
    assert sys.modules[name] is rules
    assert (rules.__name__, rules.__spec__.name) == (name, name) and rules.__file__.endswith("rules.py")
    assert RUNS == [] and is_waiting(rules)

    assert rules.VALUE == 1 and RUNS == [name]


def test_from_import_of_a_name_runs_the_module_at_once(probe_package):
    name = probe_package("rules", "VALUE = 7")
    namespace: dict = {}
    with imported_on_first_use(prefix=probe_package.package):
        exec(f"from {name} import VALUE", namespace)
    assert namespace["VALUE"] == 7 and RUNS == [name]


def test_only_modules_under_the_prefix_and_only_inside_the_block_are_deferred(probe_package):
    inside = probe_package("inside", "X = 1")
    elsewhere = probe_package("elsewhere", "X = 2")
    after = probe_package("after", "X = 3")

    with imported_on_first_use(prefix=probe_package.package + ".inside"):
        __import__(inside)
        __import__(elsewhere)
    __import__(after)

    assert RUNS == [elsewhere, after]
    assert is_waiting(sys.modules[inside])


def test_an_import_by_another_thread_during_the_block_is_not_deferred(probe_package):
    name = probe_package("other_thread", "X = 1")
    with imported_on_first_use(prefix=probe_package.package):
        thread = threading.Thread(target=__import__, args=(name,))
        thread.start()
        thread.join()
    assert RUNS == [name] and not is_waiting(sys.modules[name])


def test_threads_touching_a_waiting_module_together_run_it_once_and_all_see_it_whole(probe_package):
    # The module takes a while to run (a loop of work), so the threads arrive while it is running.
    name = probe_package("slow", "TOTAL = sum(range(3_000_000))\nDONE = True")
    slow = _import(name, probe_package.package)
    start = threading.Barrier(8)
    seen: list = []

    def first_use():
        start.wait()
        seen.append((slow.DONE, slow.TOTAL))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert RUNS == [name]
    assert seen == [(True, sum(range(3_000_000)))] * 8


def test_a_module_that_fails_when_it_runs_raises_at_first_use_and_is_imported_afresh_next_time(probe_package):
    name = probe_package("broken", "raise RuntimeError('no table configured')")
    broken = _import(name, probe_package.package)

    with pytest.raises(RuntimeError, match="no table configured"):
        broken.anything
    assert name not in sys.modules

    with pytest.raises(RuntimeError, match="no table configured"):
        __import__(name)
    assert RUNS == [name, name]


def test_a_blueprints_use_case_is_the_real_module_once_its_handler_reads_it():
    # Whether import app left it waiting is tests/infra/test_import_cost.py's (a fresh interpreter):
    # here other tests may have run it already.
    import app  # noqa: F401
    from chalicelib.routes import privacy as privacy_routes

    module = sys.modules["chalicelib.services.privacy.privacy"]
    assert privacy_routes.privacy is module
    assert callable(privacy_routes.privacy.erasure_status)  # what the shop_erasure handler reads
    assert not is_waiting(module) and type(module) is types.ModuleType
