"""The layering of the connections app, read from the import statements:
``connections.rules`` is database-free (no model, service, data plane or settings)
and ``connections.dataplane`` never calls into ``connections.services``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "connections"


def imports(package: str) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import in ``package``, nested ones included."""
    for path in sorted((APP / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield str(path.relative_to(APP.parent)), alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield str(path.relative_to(APP.parent)), node.module


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "rules",
            (
                "django",
                "connections.models",
                "connections.services",
                "connections.dataplane",
                "connections.catalog",
            ),
        ),
        ("dataplane", ("connections.services",)),
    ],
)
def test_a_layer_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    found = [
        (where, module)
        for where, module in imports(package)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    ]
    assert found == []
    assert any(True for _ in imports(package))  # the walk saw the package
