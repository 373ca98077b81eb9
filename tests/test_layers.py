"""The layer map in README.md, enforced: every numnet module imports only from the layers below its own.

The imports are read with ``ast`` (nothing is imported or run), so a forbidden import fails here with the
file, the line and the rule it breaks, instead of surfacing later as an import cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "numnet"

#: The layers, lowest first. A unit is a top-level module or package of numnet ("__init__" is the package's
#: own namespace). Each unit may import units of lower layers and of its own layer.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"_version", "backend", "files", "plot"}),
    ("engine", {"tensor", "autograd", "gradcheck", "dtypes", "cuda"}),
    ("operations", {"ops"}),
    ("library", {"nn", "optim", "data", "metrics", "statefile"}),
    ("training", {"train", "io", "models", "summary", "graph", "compiled", "utils", "__init__"}),
    ("recipe", {"recipe"}),
    ("applications", {"demos", "sweep", "sklearn"}),
    ("command line", {"cli", "__main__"}),
]

#: Each unit's layer index.
LAYER_OF = {unit: index for index, (_, units) in enumerate(LAYERS) for unit in units}

#: The issue's rules, checked on top of the layering (same-layer imports the map would allow).
FORBIDDEN: dict[str, set[str]] = {
    "ops": {"nn", "optim", "data", "train", "cli"},
    "optim": {"nn", "data", "ops", "train", "cli"},
    "data": {"nn", "optim", "ops", "train", "cli"},
    "nn": {"optim", "data", "train", "cli"},
    "metrics": {"nn", "optim", "data"},
    "statefile": {"nn", "optim", "data"},
    "train": {"cli", "nn", "optim", "data"},
}

#: Upward imports made on purpose inside the lower module, each with its reason.
UPWARD_OK = {
    ("tensor", "ops"): "Tensor's operator methods dispatch to ops, whose Functions subclass tensor.Function; "
    "tensor imports ops at its very end, after both classes exist",
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        found.append((".".join(parts).removesuffix(".__init__"), path))
    return found


MODULES = _modules()
MODULE_NAMES = {name for name, _ in MODULES}


def _unit(module: str) -> str:
    """The unit of ``module`` (a dotted name); ``numnet.X`` that is no module (an attribute) is __init__."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__init__":
        return "__init__"
    return parts[1] if f"numnet.{parts[1]}" in MODULE_NAMES else "__init__"


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, imported numnet module, imported at module level?) for every numnet import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "numnet":
                names = [f"numnet.{alias.name}" for alias in node.names]
            elif node.module.startswith("numnet."):
                names = [node.module]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name == "numnet" or a.name.startswith("numnet.")]
        else:
            continue
        found.extend((node.lineno, name, id(node) in module_level) for name in names)
    return found


def test_every_unit_is_on_the_map() -> None:
    units = {_unit(name) for name, _ in MODULES}
    assert units - LAYER_OF.keys() == set(), "put these new modules on the layer map (README.md and here)"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_imports_respect_the_layers(module: str, path: Path) -> None:
    unit = _unit(module)
    broken = []
    for line, imported, _ in _imports(path):
        target = _unit(imported)
        if target == unit:
            continue
        if target in FORBIDDEN.get(unit, set()):
            broken.append(f"line {line}: {unit} must never import {target} ({imported})")
        elif LAYER_OF[target] > LAYER_OF[unit] and (unit, target) not in UPWARD_OK:
            layer = LAYERS[LAYER_OF[target]][0]
            broken.append(f"line {line}: {unit} imports {imported}, of the higher {layer} layer")
    assert not broken, f"{path.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_only_the_command_line_imports_cli() -> None:
    offenders = [
        f"{name} (line {line})"
        for name, path in MODULES
        for line, imported, _ in _imports(path)
        if _unit(imported) == "cli" and _unit(name) not in ("cli", "__main__")
    ]
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The checks above are only as good as _imports: it must find every spelling of an import.
    source = tmp_path / "m.py"
    source.write_text(
        "import numnet\nfrom numnet import nn\nimport numnet.optim as o\n"
        "def f():\n    from numnet.cli import main\n"
    )
    found = {(name, top) for _, name, top in _imports(source)}
    assert found == {("numnet", True), ("numnet.nn", True), ("numnet.optim", True), ("numnet.cli", False)}
    assert [_unit(name) for name, _ in sorted(found)] == ["__init__", "cli", "nn", "optim"]


def test_readme_table_lists_every_unit_in_its_layer() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## What is inside", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`numnet" in line]
    listed = {}
    for row in rows:
        layer = row.split("|")[1].strip()
        for unit in re.findall(r"`numnet\.([a-z_]+)", row):
            listed[unit] = layer
    for unit, index in LAYER_OF.items():
        if unit in ("__init__", "__main__") or f"numnet.{unit}" not in MODULE_NAMES:
            continue
        assert unit in listed, f"README.md's layer table does not list numnet.{unit}"
        assert listed[unit] == LAYERS[index][0], f"README.md puts numnet.{unit} in the wrong layer"
