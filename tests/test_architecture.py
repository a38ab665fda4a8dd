"""The import rule of the design: a layer imports only the layers listed before it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "biostresstest"

ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "model": {"core"},
    "sources": {"core", "model"},
    "analysis": {"core", "model"},
    "measures": {"core", "model", "analysis"},
    "pipeline": {"core", "model", "sources", "analysis", "measures"},
    "reports": {"core", "model", "measures", "pipeline"},
    "web": {"core", "model", "sources", "analysis", "measures", "pipeline", "reports"},
    "cli": {"core", "model", "sources", "analysis", "measures", "pipeline", "reports", "web"},
}


def _layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    entry_points = {("cli.py",), ("invest_cli.py",), ("admin_cli.py",), ("measures_cli.py",)}
    return "cli" if parts in entry_points else parts[0]


def _imported_layers(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "biostresstest" and len(parts) > 1:
                entry = parts[1] in {"cli", "invest_cli", "admin_cli", "measures_cli"}
                found.add("cli" if entry else parts[1])
    return found


def test_every_module_respects_the_import_rule() -> None:
    violations = []
    modules = [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE]
    assert len(modules) > 10
    for path in modules:
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        layer = _layer_of(path)
        assert layer in ALLOWED, f"{path} is in no known layer"
        imported = _imported_layers(ast.parse(path.read_text("utf-8")))
        bad = imported - ALLOWED[layer] - {layer}
        if bad:
            violations.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(bad)}")
    assert not violations, "\n".join(violations)


def test_the_rule_checker_catches_a_violation() -> None:
    tree = ast.parse(
        "from biostresstest.web.app import create_app\nimport biostresstest.sources.base"
    )
    assert _imported_layers(tree) == {"web", "sources"}
