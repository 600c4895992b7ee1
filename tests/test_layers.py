"""The house's one rule: data and calls flow one way. A package imports only those on its
own floor or below; this test reads every import (function-level ones too) and names each
that runs back up."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The floors, ground up. judge/ scores results for the benchmarks: it stands on core alone,
# and nothing of the product imports it (a judge network must never reach a loss).
FLOORS = ["core", "index_build", "retrieval", "transfer", "artifier", "batch", "studio",
          "commands"]
JUDGE = "judge"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_import_runs_back_up():
    wrong = []
    for floor, package in enumerate(FLOORS):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imports(path):
                if name == JUDGE or (name in FLOORS and FLOORS.index(name) > floor):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    for path in sorted((ROOT / JUDGE).rglob("*.py")):
        wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in _imports(path)
                  if name in FLOORS and name != "core"]
    assert not wrong, "\n".join(wrong)


def test_every_package_is_on_a_floor():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {JUDGE, "tests"} == set(FLOORS)
