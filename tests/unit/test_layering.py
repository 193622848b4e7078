"""The dependency rules of docs/ARCHITECTURE.md ("Dependency rules"), checked two ways.

Statically: every import statement in a package's files (function-level imports included)
against the packages it may not use. Dynamically: a fresh interpreter imports every module
of the package with the forbidden packages made unimportable, which also catches an
indirect import through a third package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, FrozenSet, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> top-level packages its code must never import
FORBIDDEN: Dict[str, FrozenSet[str]] = {
    # the engine is plain Python: no Rasa, no adapter, no channel
    "sop_engine": frozenset(
        {"rasa", "rasa_sdk", "actions", "channels", "assistant_runtime", "analytics"}
    ),
    # actions are an SDK client: rasa_sdk and the engine, never the Rasa server
    "actions": frozenset({"rasa", "channels", "assistant_runtime", "analytics"}),
    # NLU components run inside Rasa; they share the engine's plain-Python vocabulary and
    # normaliser, nothing of the adapters
    "nlu_components": frozenset({"actions", "channels", "assistant_runtime", "analytics"}),
}


def _modules(package: str) -> List[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> List[Tuple[int, str]]:
    """Top-level package of every absolute import in the file, with its line."""
    found: List[Tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_layering_allows(package: str) -> None:
    files = _modules(package)
    assert files, f"no modules found under {package}/"
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in _imports(path)
        if name in FORBIDDEN[package]
    ]
    assert violations == []


def test_static_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # the checker itself must be able to fail: a function-level import counts too
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from rasa.core import agent\n    import rasa_sdk\n")
    assert [name for _, name in _imports(sample)] == ["rasa", "rasa_sdk"]


_BLOCKED_IMPORT = """
import importlib, pkgutil, sys
blocked = set(sys.argv[2].split(","))

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError("blocked by the layering test: " + name)
        return None

sys.meta_path.insert(0, Blocker())
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(info.name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in blocked)
assert not leaked, leaked
print("ok")
"""


def _import_with_blocked(package: str, blocked: FrozenSet[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORT, package, ",".join(sorted(blocked))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("package", ["sop_engine", "actions"])
def test_package_imports_with_forbidden_packages_unavailable(package: str) -> None:
    result = _import_with_blocked(package, FORBIDDEN[package])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_blocked_import_fails_for_a_package_that_needs_it() -> None:
    # actions needs rasa_sdk: blocking it must make the check fail
    result = _import_with_blocked("actions", frozenset({"rasa_sdk"}))
    assert result.returncode != 0
    assert "blocked by the layering test: rasa_sdk" in result.stderr


def _module_graph(package: str) -> Dict[str, Set[str]]:
    """Module-level imports between the modules of one package (function-level imports are
    deferred on purpose and cannot form an import-time cycle). A subpackage is one node:
    the union of its modules' imports (its own cycles are checked with it as the package)."""
    directory = ROOT / package.replace(".", "/")
    nodes = {path.stem: [path] for path in directory.glob("*.py")}
    for sub in directory.iterdir():
        if (sub / "__init__.py").is_file():
            nodes[sub.name] = sorted(sub.rglob("*.py"))
    prefix = package + "."

    def local(module: str) -> str:
        return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else ""

    graph: Dict[str, Set[str]] = {}
    for name, paths in sorted(nodes.items()):
        edges: Set[str] = set()
        for path in paths:
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ImportFrom) and node.module == package:
                    edges |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    edges.add(local(node.module or ""))
                elif isinstance(node, ast.Import):
                    edges |= {local(a.name) for a in node.names}
        graph[name] = (edges & set(nodes)) - {name}
    return graph


def _cycle(graph: Dict[str, Set[str]]) -> List[str]:
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


@pytest.mark.parametrize(
    "package",
    [
        "sop_engine",
        "actions",
        "channels",
        "assistant_runtime",
        "assistant_runtime.patches",
        "analytics",
    ],
)
def test_no_import_cycle_between_modules(package: str) -> None:
    assert _cycle(_module_graph(package)) == []


def test_module_graph_sees_a_subpackage_and_its_modules() -> None:
    graph = _module_graph("assistant_runtime")
    assert "patches" in graph["tracker_store"]  # the store warns when the patches are off
    assert "patches" not in graph["turns"]
    assert "book" in _module_graph("assistant_runtime.patches")["action_calls"]


def test_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
