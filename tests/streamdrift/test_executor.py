"""The executor seam without a cluster: states filled in partitions and summed equal one fill."""

import subprocess
import sys
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.counting import Counter
from streamdrift.executor import Executor, is_dask_collection, reads_files
from streamdrift.executors import executor_for
from streamdrift.io import FileSource
from streamdrift.partitions import FileInfo, Partition, PartitionSource, merge, split
from streamdrift.profile import ColumnBuilder
from streamdrift.state import Histogram, Range
from tests.strategies import examples

values = st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, np.nan]), max_size=300)


@settings(max_examples=examples(50))
@given(values, st.integers(1, 40))
def test_profile_is_the_same_whatever_the_chunks(xs, chunk):
    """-0.0 and 0.0 are one value; which sign np.unique kept depended on the chunking (a bug)."""
    x = np.array(xs, dtype=np.float64)
    whole = ColumnBuilder().update(x).build()
    chunked = ColumnBuilder()
    for i in range(0, x.size, chunk):
        chunked.update(x[i:i + chunk])
    chunked = chunked.build()
    assert whole == chunked
    assert whole.values.tobytes() == chunked.values.tobytes()  # == would not see the sign of zero


@settings(max_examples=examples(50))
@given(values, st.integers(1, 40), st.integers(1, 5))
def test_partitions_summed_with_plus_equal_one_fill(xs, chunk, split_every):
    """What a cluster does (each partition fills fresh states, the states are summed in groups)
    equals filling one set of states with everything, for every state the executor fills."""
    x = np.array(xs, dtype=np.float64)
    fresh = lambda: {"r": Range(), "h": Histogram.for_range(0.0, 3.0), "p": ColumnBuilder()}  # noqa: E731
    whole = fresh()
    for state in whole.values():
        state.update(x)
    parts = []
    for i in range(0, max(x.size, 1), chunk):
        part = fresh()
        for state in part.values():
            state.update(x[i:i + chunk])
        parts.append(part)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + split_every + 1]) for i in range(0, len(parts), split_every + 1)]
    assert parts[0]["r"] == whole["r"] and parts[0]["h"] == whole["h"]
    assert parts[0]["p"].build().values.tobytes() == whole["p"].build().values.tobytes()
    assert parts[0]["p"].build() == whole["p"].build()


def test_row_groups_are_grouped_into_partitions():
    info = FileInfo("f", "parquet", pa.schema([]), (3, 0, 4, 5, 1, 1))
    assert [p.row_groups for p in split(info, 4)] == [(0, 2), (3,), (4, 5)]
    assert split(FileInfo("f", "parquet", pa.schema([]), ()), 4) == []
    assert split(FileInfo("f", "arrow-file", pa.schema([])), 4) == [Partition("f", "arrow-file")]


def test_a_partition_reads_only_its_row_groups(tmp_path):
    pq.write_table(pa.table({"a": np.arange(10.0)}), tmp_path / "f.parquet", row_group_size=3)
    source = PartitionSource(Partition(str(tmp_path / "f.parquet"), "parquet", (1, 3)))
    with Counter(1) as counter:
        r = counter.ranges(source, ["a"], 2)
    assert (r["a"].lo, r["a"].hi, r["a"].count) == (3.0, 9.0, 4)


def test_local_inputs_get_the_local_executor(tmp_path):
    assert isinstance(executor_for(None, ({"a": [1.0]},)), Counter)
    counter = Counter(1)
    assert executor_for(counter) is counter and isinstance(counter, Executor)
    assert reads_files("x.parquet") and reads_files([tmp_path]) and not reads_files({"a": [1.0]})
    assert not is_dask_collection(pa.table({"a": [1.0]}))


def test_compare_and_profile_never_import_dask_without_dask(tmp_path):
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0]}), tmp_path / "r.parquet")
    code = (
        "import sys; from streamdrift.cli import run\n"
        f"assert run(['compare', {str(tmp_path / 'r.parquet')!r}, {str(tmp_path / 'r.parquet')!r}]) == 0\n"
        f"assert run(['profile', {str(tmp_path / 'r.parquet')!r}, '-o', {str(tmp_path / 'p')!r}]) == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


def test_map_unordered_on_local_threads_gives_every_item_once():
    with Counter(3) as executor:
        got = list(executor.map_unordered(lambda x: x * x, range(50)))
    assert sorted(got) == [(x, x * x) for x in range(50)]


def test_the_next_sides_files_are_read_while_this_sides_last_batch_is_counted(tmp_path):
    for name, values in (("a", np.arange(10.0)), ("b", np.arange(5.0, 25.0))):
        pq.write_table(pa.table({"x": values}), tmp_path / f"{name}.parquet")
    a, b = (FileSource([tmp_path / f"{name}.parquet"], f"'{name}'") for name in "ab")
    started, seen, read_b = threading.Event(), [], b.batches

    def batches(columns, batch_size):
        started.set()
        yield from read_b(columns, batch_size)

    b.batches = batches

    class Waiting(Range):
        def update(self, values):  # the last (only) batch of a is counted once b is being read
            seen.append(started.wait(10))
            return super().update(values)

    states_a, states_b = {"x": Waiting()}, {"x": Range()}
    with Counter(1) as counter:
        counter.fill_sides([(a, states_a), (b, states_b)], batch_size=100)
    assert seen == [True]
    assert (states_a["x"].lo, states_a["x"].hi, states_a["x"].count) == (0.0, 9.0, 10)
    assert states_b["x"] == Range(5.0, 24.0, 20, 0)


def test_filling_sides_in_turn_equals_filling_each(tmp_path):
    rng = np.random.default_rng(8)
    pq.write_table(pa.table({"x": rng.normal(0, 1, 5000)}), tmp_path / "a.parquet", row_group_size=700)
    sides = [FileSource([tmp_path / "a.parquet"], "'a'"), pa.table({"x": rng.normal(1, 2, 3000)})]
    sides[1] = Executor().open(sides[1], "current")
    edges = np.linspace(-8, 8, 21)
    together = [{"x": Histogram(edges)} for _ in sides]
    with Counter(1) as counter:
        counter.fill_sides(list(zip(sides, together)), batch_size=300)
        alone = []
        for side in sides:
            states = {"x": Histogram(edges)}
            counter.fill(side, states, batch_size=1000)
            alone.append(states)
    assert [t["x"] for t in together] == [s["x"] for s in alone]


def in_memory_sides(rows=3000, chunks=3):
    """Two tables of several chunks: numeric features with NaN, +-inf, a constant and an empty one,
    and a categorical one."""
    rng = np.random.default_rng(5)

    def side(shift):
        x = rng.normal(shift, 1 + shift, rows)
        x[::97] = np.nan
        x[5] = np.inf
        cols = {"x": x, "const": np.full(rows, 2.5), "nan": np.full(rows, np.nan), "i": rng.integers(-3, 9, rows),
                "cat": rng.choice(["a", "b", "c", None], rows)}
        for j in range(4):
            cols[f"f{j}"] = rng.normal(j * shift, 1 + j, rows)
        table = pa.table(cols)
        return pa.concat_tables([table.slice(i * rows // chunks, rows // chunks) for i in range(chunks)])

    return side(0.0), side(0.7)


def test_in_memory_compare_counts_each_feature_in_one_task_range_then_histograms():
    """Each feature's ranges on both sides, then its two histograms, on one thread, one after the other
    (the columns are read while still in cache), never two passes over every feature."""
    from streamdrift import compare

    ref, cur = in_memory_sides()
    events = []
    where = lambda chunk: (chunk.buffers()[1].address, chunk.offset)  # noqa: E731 - which column a chunk is of
    feature_of = {where(chunk): f for t in (ref, cur) for f in t.column_names for chunk in t.column(f).chunks}

    def recording(cls, kind):
        update = cls.update

        def record(self, values):
            events.append((feature_of[where(values)], kind, threading.get_ident()))
            return update(self, values)

        return record

    original = Range.update, Histogram.update
    Range.update, Histogram.update = recording(Range, "range"), recording(Histogram, "hist")
    try:
        with Counter(2) as counter:
            assert counter.count_features([Executor().open(t, "side") for t in (ref, cur)], ["x"], 20) is not None
        events.clear()
        report = compare(ref, cur, threads=2)
    finally:
        Range.update, Histogram.update = original
    numeric = [f for f in ref.column_names if f != "cat"]
    assert [f.feature for f in report] == ref.column_names
    for feature in numeric:
        seen = [(kind, thread) for f, kind, thread in events if f == feature]
        assert [kind for kind, _ in seen] == ["range"] * 6 + ["hist"] * 6, feature  # 3 chunks per side
        assert len({thread for _, thread in seen}) == 1, feature


def test_in_memory_compare_equals_the_two_passes_over_streamed_batches():
    """The per-feature path (tables) and the two passes (the same tables as streams of batches)
    give the same report, field for field, on 1 and 2 threads."""
    from streamdrift import compare

    ref, cur = in_memory_sides()
    stream = lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches())  # noqa: E731
    streamed = list(compare(stream(ref), stream(cur), threads=1, categorical=["i"]))
    for threads in (1, 2):
        assert list(compare(ref, cur, threads=threads, categorical=["i"])) == streamed
    assert {f.kind for f in streamed} == {"numeric", "categorical"}
    assert any(f.kl is None for f in streamed) and any(f.kl is not None for f in streamed)
