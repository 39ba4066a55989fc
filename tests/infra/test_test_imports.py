"""Shared test helpers live in tests/support: no test module (or conftest) imports a name from
another test module, so a test file can be moved, renamed or deleted without breaking others."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SHARED = "tests.support"


def _imported_modules(tree: ast.AST, package: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
                for name in names:
                    yield node.lineno, name
            elif node.module:
                yield node.lineno, node.module


def cross_test_imports(root: Path = TESTS) -> list[str]:
    """``path:line imports module`` for every import of a test module outside tests/support."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if relative.parts[:2] == ("tests", "support"):
            continue
        package = ".".join(relative.parent.parts)
        for line, module in sorted(_imported_modules(ast.parse(path.read_text(), str(path)), package)):
            if (module == "tests" or module.startswith("tests.")) and not (module == SHARED or module.startswith(SHARED + ".")):
                found.append(f"{relative}:{line} imports {module}")
    return found


def test_no_test_module_imports_from_another():
    assert cross_test_imports() == [], "move shared helpers to tests/support (fixtures: a conftest or tests/support/api_fixtures.py)"


def test_the_check_sees_absolute_relative_and_nested_imports(tmp_path):
    tests = tmp_path / "tests"
    (tests / "support").mkdir(parents=True)
    (tests / "integration").mkdir()
    (tests / "support" / "helpers.py").write_text("from tests.integration.test_a import x\n")  # support may
    (tests / "integration" / "test_ok.py").write_text("from tests.support.helpers import x\nimport tests.support\n")
    (tests / "integration" / "test_b.py").write_text(
        "from tests.integration.test_a import helper\n"
        "def test():\n    from tests.unit import test_c\n"
        "from .test_a import other\n"
        "import tests.integration.conftest\n")
    assert cross_test_imports(tests) == [
        "tests/integration/test_b.py:1 imports tests.integration.test_a",
        "tests/integration/test_b.py:3 imports tests.unit",
        "tests/integration/test_b.py:4 imports tests.integration.test_a",
        "tests/integration/test_b.py:5 imports tests.integration.conftest",
    ]
