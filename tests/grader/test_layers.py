"""The grader's import graph (issue 10): dependencies run one way, cli -> agent -> grading ->
sandbox -> sandbox.protocol; only grading imports task; no module imports another in a circle."""

from pathlib import Path

import pytest

from tests.import_graph import circle, import_graph

ROOT = Path(__file__).resolve().parents[2] / "grader"
LAYERS = {"cli": 4, "agent": 3, "grading": 2, "sandbox": 1, "sandbox.protocol": 0}


GRAPH = import_graph(ROOT)
MODULES = set(GRAPH)


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
    assert circle(GRAPH) is None, "import circle: " + " -> ".join(circle(GRAPH))
