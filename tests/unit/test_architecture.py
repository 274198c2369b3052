"""The layering invariants of ARCHITECTURE.md, enforced with import-linter.

Each contract is proven able to fail: a copy of `hub/` and `plugins/` with one forbidden import
injected (as a new module, so the copy never depends on what the real modules contain) must
break exactly the contracts its case names: that one, and any that overlaps it.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
VERDICT = re.compile(r"^(?P<name>.+) (?P<verdict>KEPT|BROKEN)\b", re.MULTILINE)

# What a plugin may import from the hub. Any other hub module must be forbidden by the
# "plugin-api" contract: together they say "plugins import only the plugin API".
PLUGIN_API = frozenset(
    {
        "hub.plugin",
        "hub.hookspecs",
        "hub.domain",
        "hub.errors",
        "hub.http",
        "hub.mapping",
        "hub.sqlite",
    }
)


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


@dataclass(frozen=True)
class Lint:
    returncode: int
    output: str

    def verdicts(self) -> dict[str, str]:
        return {m["name"]: m["verdict"] for m in VERDICT.finditer(self.output)}


def lint(tree: Path) -> Lint:
    """`lint-imports` in `tree`, which it puts first on sys.path: it analyses that tree's copy."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["COLUMNS"] = "1000"  # contract names unwrapped, one verdict per line
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return Lint(result.returncode, result.stdout + result.stderr)


def unclassified_hub_modules(modules: set[str]) -> set[str]:
    forbidden = set(contracts()["plugin-api"]["forbidden_modules"])
    return modules - PLUGIN_API - forbidden


def hub_modules() -> set[str]:
    return {f"hub.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "hub")])}


def test_import_contracts_hold() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.output
    names = {c["name"] for c in contracts().values()}
    assert result.verdicts() == dict.fromkeys(names, "KEPT"), result.output


def test_every_hub_module_is_plugin_api_or_forbidden_to_plugins() -> None:
    assert unclassified_hub_modules(hub_modules()) == set()
    assert PLUGIN_API.isdisjoint(contracts()["plugin-api"]["forbidden_modules"])


def test_what_plugins_may_not_import_workflows_and_domain_may_not_either() -> None:
    """The non-API hub modules are the impure ones, named once for plugins and checked here."""
    by_id = contracts()
    impure = set(by_id["plugin-api"]["forbidden_modules"])
    assert impure - {"hub.workflows"} - set(by_id["workflows"]["forbidden_modules"]) == set()
    assert impure - set(by_id["domain"]["forbidden_modules"]) == set()


def test_a_new_hub_module_must_be_classified() -> None:
    assert unclassified_hub_modules(hub_modules() | {"hub.newcomer"}) == {"hub.newcomer"}


def test_every_forbidden_module_exists() -> None:
    """A misspelt name would forbid nothing; import-linter does not notice."""
    named = {
        module
        for contract in contracts().values()
        for module in contract.get("forbidden_modules", [])
    }
    assert {m for m in named if importlib.util.find_spec(m) is None} == set()


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("hub/_injected.py", "import plugins.carriers.sandbox", {"layers"}),
        ("hub/workflows/_injected.py", "import subprocess", {"workflows"}),
        ("hub/workflows/_injected.py", "import hub.temporal", {"workflows"}),
        ("hub/domain/_injected.py", "import temporalio", {"domain"}),
        ("hub/domain/_injected.py", "from hub import intake", {"domain"}),
        ("plugins/carriers/sandbox/_injected.py", "import hub.activities", {"plugin-api"}),
        # The ignored catalog imports of hub.settings excuse no other module.
        (
            "plugins/carriers/sandbox/_injected.py",
            "from hub.settings import one_line",
            {"plugin-api"},
        ),
        ("plugins/carriers/sandbox/_injected.py", "import plugins.carriers.ups", {"independence"}),
        # A pure plugin module, so only the plugin contracts can object; hub importing plugins
        # is a layers breach too (the two contracts overlap there).
        (
            "hub/domain/_injected.py",
            "import plugins.marketplaces.sandbox.geography",
            {"no-plugins-below", "layers"},
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, source: str, broken: set[str]
) -> None:
    for package in ("hub", "plugins"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / module).write_text(source + "\n")

    result = lint(tmp_path)

    assert result.returncode == 1, result.output
    by_id = contracts()
    expected = {c["name"]: "BROKEN" if i in broken else "KEPT" for i, c in by_id.items()}
    assert result.verdicts() == expected, result.output
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} ->" in result.output, "the injected import is the one reported"
