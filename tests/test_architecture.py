"""The shape of the package, checked: sizes, public surface, private names, logging.

The layer contracts themselves (which folder may import which) are import-linter contracts in
``pyproject.toml``, run by ``make lint``; a test here runs them too so that ``pytest`` alone
catches a wrong import direction.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridgis"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 120


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_private_module(path: Path) -> bool:
    return any(part.startswith("_") and part != "__init__.py"
               for part in path.relative_to(PACKAGE).parts)


def test_no_module_over_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in _modules()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_function_over_the_size_limit():
    long = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, "functions over the limit:\n" + "\n".join(long)


def test_every_public_module_declares_its_surface():
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if not _is_private_module(p) and p.name != "__main__.py"
               and not any(isinstance(n, ast.Assign) and any(
                   isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
                   for n in _tree(p).body)]
    assert not missing, f"public modules without __all__: {missing}"


def _resolve(module: str, node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _private_imports(path: Path, *, own: str | None) -> list[str]:
    bad = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _resolve(own or "", node, path) if own else node.module or ""
        if not source.startswith("gridgis") or source == own:
            continue
        bad += [f"{path.relative_to(ROOT)}:{node.lineno} {source}.{a.name}" for a in node.names
                if _private(a.name) and not (own and _is_submodule(source, a.name))]
    return bad


def _private(name: str) -> bool:
    """A private name: one leading underscore; dunders and ``_repr_html_``-style hooks are not."""
    return name.startswith("_") and not name.startswith("__") and not name.endswith("_")


def _is_submodule(package: str, name: str) -> bool:
    """``from . import _helpers``: a package importing its own private module is fine."""
    folder = ROOT.joinpath(*package.split("."))
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


def test_no_private_name_is_imported_across_modules():
    bad = [b for p in _modules() for b in _private_imports(p, own=_dotted(p))]
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)


def test_tests_use_only_public_names():
    bad = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        bad += _private_imports(path, own=None)
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Attribute) and _private(node.attr)
                    and _names_gridgis(node.value)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert not bad, "tests touching private names:\n" + "\n".join(bad)


def _names_gridgis(node: ast.AST) -> bool:
    """Whether an attribute chain starts at a name that tests bind to gridgis objects."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in {"self", "cls", "np", "pd", "gpd",
                                                          "shapely", "os", "sys", "pytest"}


def test_library_modules_do_not_print():
    offenders = []
    for path in _modules():
        if path.name == "cli.py" or path.parent.name == "cli":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "library code prints instead of logging: " + ", ".join(offenders)


def test_every_top_level_module_sits_in_a_layer():
    """A module missing from the layers contract would escape the import-direction check."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {m.strip() for layer in layers for m in layer.replace("|", ":").split(":")}
    top = {f"gridgis.{p.stem}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    top |= {f"gridgis.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert not top - named, f"modules outside the layers contract: {sorted(top - named)}"


def test_library_is_quiet_until_the_application_configures_logging():
    code = ("import logging, gridgis.validation; "
            "logging.getLogger('gridgis.validation').warning('library warning')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is missing: `make install` installs import-linter")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
