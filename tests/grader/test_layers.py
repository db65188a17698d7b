"""The grader's import graph (issue 10): dependencies run one way, cli -> agent -> grading ->
sandbox -> sandbox.protocol; only grading imports task; no module imports another in a circle.

Every ``import`` and ``from ... import`` of every module is read with ast, also those inside
functions (a lazy import is still a dependency)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "grader"
LAYERS = {"cli": 4, "agent": 3, "grading": 2, "sandbox": 1, "sandbox.protocol": 0}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The grader modules ``path`` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:  # ``from package import module`` depends on the module only
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m == "grader" or m.startswith("grader.")}


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def layer(module: str) -> tuple[str, int] | None:
    """The layer a module belongs to, or None for the package root and task/ (checked apart)."""
    rest = module.removeprefix("grader.")
    if rest == "sandbox.protocol":
        return rest, 0
    top = rest.split(".")[0]
    return (top, LAYERS[top]) if top in LAYERS else None


def test_every_module_has_a_room():
    rooms = {module.removeprefix("grader.").split(".")[0] for module in MODULES if module != "grader"}
    assert rooms <= {"cli", "agent", "grading", "sandbox", "task"}, sorted(rooms)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_dependencies_run_one_way(module):
    mine = layer(module)
    for dep in GRAPH[module]:
        theirs = layer(dep)
        if dep.startswith("grader.task"):
            assert module.startswith(("grader.grading", "grader.task")), f"{module} imports {dep}: only grading imports task"
        elif mine is not None and theirs is not None and mine[0] != theirs[0]:
            assert theirs[1] < mine[1], f"{module} ({mine[0]}) imports {dep} ({theirs[0]}), a layer above or beside it"
        if module.startswith("grader.task") and dep.startswith("grader.") and not dep.startswith("grader.task"):
            raise AssertionError(f"{module} imports {dep}: task/ depends on nothing else of the grader")
    if module == "grader.sandbox.protocol":
        assert not GRAPH[module], "the protocol imports nothing of the grader"


def test_no_import_circles():
    seen, stack, on_stack = set(), [], set()

    def visit(node):
        seen.add(node)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt in on_stack:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        on_stack.discard(node)

    for node in sorted(GRAPH):
        if node not in seen:
            visit(node)
