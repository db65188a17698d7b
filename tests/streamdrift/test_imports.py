"""streamdrift's import graph (issue 10): no module imports another in a circle."""

from pathlib import Path

from tests.import_graph import circle, import_graph

GRAPH = import_graph(Path(__file__).resolve().parents[2] / "streamdrift")


def test_the_graph_is_read():
    assert "streamdrift.cli.base" in GRAPH["streamdrift.cli.compare"]


def test_no_import_circles():
    assert circle(GRAPH) is None, "import circle: " + " -> ".join(circle(GRAPH))


def test_a_circle_is_found():
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b"}, "b": set()}) is None
