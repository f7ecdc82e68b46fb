"""The house's layering, read from the source: no import cycles between packages, ``core`` imports nothing
of the domain, and function-level imports only where they are named here with the reason.

The HTTP shell is ``api`` together with every package's ``routes.py`` (thin views kept beside their
domain): the shell may import anything, nothing below it imports the shell. Imports under
``if TYPE_CHECKING:`` are for annotations only and are not edges."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests")
SHELL = "api"

# Function-level imports that break a real cycle or keep a heavy import off a path that rarely needs it.
# Anything else belongs at the top of its module.
ALLOWED_LATE_IMPORTS = {
    ("api/app.py", "*"): "create_app registers every package's routes; the routes import api's helpers",
    ("api/cli.py", "*"): "each command imports what it runs: `flask --help` stays fast and needs no database",
    ("bench", "*"): "the benchmark imports what each phase measures, after it has set up its database",
}


def _owner(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.name == "routes.py":
        return SHELL
    return rel.parts[0]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """(module imported, line, inside a function?) for every runtime import of the tree."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module, child.lineno, in_function
            yield from walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    yield from walk(tree, False)


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "node_modules" in path.parts:
                continue
            yield path, ast.parse(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graph():
    edges, late = defaultdict(set), []
    for path, tree in _sources():
        owner = _owner(path)
        for module, line, in_function in _imports(tree):
            target = module.split(".")[0]
            if target not in PACKAGES:
                continue
            if module.endswith(".routes") or module == "api" or module.startswith("api."):
                target = SHELL
            if in_function:
                late.append((str(path.relative_to(ROOT)), line, module))
            if target != owner:
                edges[owner].add(target)
    return edges, late


def test_no_cycles_between_packages(graph):
    edges, _ = graph
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for package in sorted(edges):
        if package not in state:
            visit(package, [package])
    assert cycles == [], "import cycles between packages: " + "; ".join(" → ".join(c) for c in cycles)


def test_core_imports_nothing_of_the_domain(graph):
    edges, _ = graph
    assert edges.get("core", set()) == set()


def test_db_knows_no_domain_package(graph):
    edges, _ = graph
    assert edges.get("db", set()) <= {"core"}


def test_function_level_imports_only_where_a_reason_is_named(graph):
    _, late = graph

    def allowed(path: str) -> bool:
        return any((path == where or path.startswith(where + "/")) for where, _ in ALLOWED_LATE_IMPORTS)

    stray = [f"{path}:{line} imports {module}" for path, line, module in late if not allowed(path)]
    assert stray == [], "\n".join(stray)
