"""Each import contract in pyproject.toml catches the violation it exists for.

CI runs ``lint-imports`` on the real tree; these tests plant one forbidden import in a
copy of the packages and check that the right contract reports it, so that a
contract edited into uselessness (a typo in a module name, a wildcard matching nothing,
an over-broad ignore) fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("switchyard", "workspace", "connections", "privacy", "engage")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages' Python files and the configuration, copied once per module."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            target = root / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    shutil.copyfile(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.fixture
def plant(tree: Path) -> Iterator[Callable[[str, str], None]]:
    """Write a module holding one import into the copy; removed after the test."""
    created: list[Path] = []

    def write(module: str, line: str) -> None:
        *packages, name = module.split(".")
        folder = tree.joinpath(*packages)
        for depth in range(1, len(packages) + 1):
            package = tree.joinpath(*packages[:depth])
            if not package.exists():
                package.mkdir()
                created.append(package)
            if not (package / "__init__.py").exists():
                (package / "__init__.py").write_text("")
                created.append(package / "__init__.py")
        (folder / f"{name}.py").write_text(f"{line}\n")
        created.append(folder / f"{name}.py")

    yield write
    for path in reversed(created):
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def lint(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("contract", "module", "line", "reported"),
    [
        (
            "apps",
            "switchyard.planted",
            "import connections",
            "switchyard.planted -> connections",
        ),
        (
            "apps",
            "workspace.services.planted",
            "import connections.models",
            "workspace.services.planted -> connections.models",
        ),
        (
            "app-layers",
            "connections.services.planted",
            "from connections.views import sources",
            "connections.services.planted -> connections.views.sources",
        ),
        (
            "app-layers",
            "workspace.models.planted",
            "from workspace.services import audit",
            "workspace.models.planted -> workspace.services.audit",
        ),
        (
            "models-import-no-api",
            "connections.models.planted",
            "from switchyard.api import viewsets",
            "connections.models.planted -> switchyard.api.viewsets",
        ),
        (
            "rules-are-pure",
            "connections.rules.planted",
            "import django.db",
            "connections.rules.planted -> django.db",
        ),
        (
            "rules-are-pure",
            "connections.rules.planted",
            "from workspace.models import Workspace",
            "connections.rules.planted -> workspace.models",
        ),
        (
            "dataplane-below-services",
            "connections.dataplane.planted",
            "from connections.services import sources",
            "connections.dataplane.planted -> connections.services.sources",
        ),
        (
            "apps",
            "connections.services.planted",
            "import privacy.models",
            "connections.services.planted -> privacy.models",
        ),
        (
            "apps",
            "privacy.services.planted",
            "import engage.models",
            "privacy.services.planted -> engage.models",
        ),
        (
            "apps",
            "connections.dataplane.planted",
            "from engage import models",
            "connections.dataplane.planted -> engage.models",
        ),
        (
            "app-layers",
            "engage.services.planted",
            "from engage.api import urls",
            "engage.services.planted -> engage.api.urls",
        ),
        (
            "privacy-matching-is-pure",
            "privacy.matching.planted",
            "import django.db",
            "privacy.matching.planted -> django.db",
        ),
        (
            "engage-identity-is-pure",
            "engage.identity.planted",
            "import django.db",
            "engage.identity.planted -> django.db",
        ),
        (
            "reverse-etl",
            "connections.services.planted",
            "from connections.reverse_etl import models",
            "connections.services.planted -> connections.reverse_etl.models",
        ),
        (
            "reverse-etl-public-entry-points",
            "connections.reverse_etl.services.planted",
            "from connections.views import sources",
            "connections.reverse_etl.services.planted -> connections.views.sources",
        ),
        (
            "reverse-etl-layers",
            "connections.reverse_etl.services.planted",
            "from connections.reverse_etl.api import views",
            "connections.reverse_etl.services.planted -> connections.reverse_etl.api.views",
        ),
    ],
)
def test_contract_reports_a_planted_import(
    tree: Path,
    plant: Callable[[str, str], None],
    contract: str,
    module: str,
    line: str,
    reported: str,
) -> None:
    plant(module, line)

    result = lint(tree, contract)

    assert result.returncode == 1, result.stdout + result.stderr
    # Layers and forbidden contracts indent their report lines differently.
    assert f"- {reported} (l.1)" in " ".join(result.stdout.split()), result.stdout
