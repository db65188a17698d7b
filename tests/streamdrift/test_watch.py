"""Windows, the reference side and the streaming sources of ``watch`` (in process)."""

import io
import os
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.comparison import compare
from streamdrift.errors import DriftError
from streamdrift.profile import Profile
from streamdrift.state import Histogram
from streamdrift.stats import make_edges, range_problem
from streamdrift.io import Background
from streamdrift.watch import (
    Follower,
    Problem,
    Watcher,
    _stdin_batches,
    batches,
    check_sources,
    complete,
    load_reference,
    watch,
)
from tests.oracle import oracle_feature
from tests.strategies import feature_pairs, splits

COLUMNS = ["a", "b"]


def tables(n_ref=3000, n_cur=2500, seed=0):
    rng = np.random.default_rng(seed)
    ref = pa.table({"a": rng.normal(0, 1, n_ref), "b": rng.integers(0, 30, n_ref), "s": ["x"] * n_ref})
    a = rng.normal(0.3, 1.2, n_cur)
    a[rng.random(n_cur) < 0.05] = np.nan
    cur = pa.table({"a": a, "b": rng.integers(5, 40, n_cur), "s": ["y"] * n_cur})
    return ref, cur


def run(reference, cur: pa.Table, cuts, **kwargs):
    """The windows of ``cur`` fed as batches cut at ``cuts``."""
    out = []
    with Watcher(reference, **kwargs) as w:
        for part in np.split(np.arange(cur.num_rows), cuts):
            if part.size or kwargs.get("feed_empty"):
                batch = cur.slice(int(part[0]) if part.size else 0, part.size).to_batches()
                for b in batch or [pa.RecordBatch.from_pylist([], schema=cur.schema)]:
                    out.extend(w.feed(b))
        last = w.finish()
        if last is not None:
            out.append(last)
    return out


REF, CUR = tables()
PROFILE_REF = load_reference(REF, columns=COLUMNS)


@settings(max_examples=25)
@given(window=st.integers(1, 3000), cuts=st.lists(st.integers(0, CUR.num_rows), max_size=5).map(sorted))
def test_windows_account_for_every_row(window, cuts):
    windows = run(PROFILE_REF, CUR, cuts, window=window)
    assert [w.index for w in windows] == list(range(len(windows)))
    assert windows[0].start_row == 0
    for prev, nxt in zip(windows, windows[1:]):
        assert prev.end_row == nxt.start_row
    assert windows[-1].end_row == CUR.num_rows
    assert all(w.rows == window and not w.partial for w in windows[:-1])
    assert windows[-1].partial == (CUR.num_rows % window != 0)
    for w in windows:
        for f in w.features:
            assert f.current_count + f.missing_current == w.rows


def test_window_equals_compare_of_its_rows():
    windows = run(PROFILE_REF, CUR, [100, 1234, 1235, 2000], window=700)
    for w in windows:
        exact = compare(REF, CUR.slice(w.start_row, w.rows), columns=COLUMNS)
        for got, want in zip(w.features, exact):
            assert got.to_dict() == want.to_dict()
            assert got.reference_counts == want.reference_counts
            assert got.current_counts == want.current_counts


def test_windows_moving_in_and_out_of_the_reference_range_equal_compare():
    """Windows inside the reference's range are counted on arrival; the others, and the ones after, are not."""
    rng = np.random.default_rng(7)
    ref = pa.table({"a": rng.uniform(0, 10, 2000), "b": np.arange(2000) % 7})
    pieces = [rng.uniform(1, 9, 300), rng.uniform(5, 12, 300), rng.uniform(1, 9, 300), rng.uniform(1, 9, 300),
              rng.uniform(-3, 4, 300), np.full(300, np.nan), np.array([0.0, 10.0] * 150), rng.uniform(1, 9, 150)]
    a = np.concatenate(pieces)
    cur = pa.table({"a": a, "b": (np.arange(a.size) % 9).astype(np.int32)})
    windows = run(load_reference(ref), cur, [250, 600, 601, 1900], window=300)
    assert len(windows) == 8 and windows[-1].partial
    for w in windows:
        exact = compare(ref, cur.slice(w.start_row, w.rows))
        for got, want in zip(w.features, exact):
            assert got.to_dict() == want.to_dict()
            assert got.current_counts == want.current_counts


def test_split_batches_give_the_same_windows():
    whole = run(PROFILE_REF, CUR, [], window=600)
    split = run(PROFILE_REF, CUR, [1, 2, 599, 600, 601, 1500], window=600)
    assert [w.records() for w in whole] == [w.records() for w in split]


def test_profile_file_and_parquet_reference_agree(tmp_path):
    pq.write_table(REF, tmp_path / "ref.parquet", row_group_size=500)
    from_parquet = load_reference(str(tmp_path / "ref.parquet"), columns=COLUMNS, batch_size=400)
    Profile.from_arrays({c: REF.column(c) for c in COLUMNS}).save(tmp_path / "ref.profile")
    from_profile = load_reference([str(tmp_path / "ref.profile")])
    assert from_profile.features == COLUMNS
    with pytest.raises(DriftError, match="give a profile as the only reference"):
        load_reference([str(tmp_path / "ref.parquet"), str(tmp_path / "ref.profile")])
    a = run(from_parquet, CUR, [], window=1000)
    b = run(from_profile, CUR, [], window=1000)
    assert [w.records() for w in a] == [w.records() for w in b]


def test_reference_edges_are_fixed_and_count_out_of_range():
    ref = load_reference(REF, columns=["a"], edges="reference")
    edges = make_edges(np.nanmin(REF.column("a")), np.nanmax(REF.column("a")), 20)
    windows = run(ref, CUR, [500], window=1000, edges="reference")
    for w in windows:
        rows = CUR.column("a").to_numpy()[w.start_row : w.end_row]
        expected = Histogram(edges).update(rows)
        (f,) = w.features
        assert f.current_counts == expected.counts.tolist()
        assert f.out_of_range == expected.out_of_range > 0
        assert f.to_dict()["out_of_range"] == f.out_of_range
        assert f.reference_counts == Histogram(edges).update(REF.column("a").to_numpy()).counts.tolist()
        assert "outside the reference range" in w.header()


def test_reference_edges_equal_combined_inside_the_reference_range():
    inside = pa.table({"a": np.clip(CUR.column("a").to_numpy(), -1.5, 1.5)})
    fixed = run(load_reference(REF, columns=["a"], edges="reference"), inside, [], window=800, edges="reference")
    combined = run(load_reference(REF, columns=["a"]), inside, [], window=800)
    for x, y in zip(fixed, combined):
        assert x.features[0].kl == y.features[0].kl
        assert x.features[0].out_of_range == 0


def test_reference_edges_from_parquet_with_lying_statistics(tmp_path, monkeypatch):
    """Footer min/max that the data does not have are caught: the range is scanned and recounted."""
    from streamdrift.io import FileSource

    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"a": [0.0, 1.0, 2.0]}), path)
    honest = load_reference(str(path), edges="reference", bins=2)
    assert honest.fixed["a"].counts.tolist() == [1, 2]
    monkeypatch.setattr(FileSource, "statistics_range", lambda self, column: (-1.0, 5.0))
    ref = load_reference(str(path), edges="reference", bins=2)
    assert ref.fixed["a"] == honest.fixed["a"]
    assert (ref.range("a").lo, ref.range("a").hi, ref.range("a").count) == (0.0, 2.0, 3)


def test_reference_edges_with_a_lying_footer_too_wide_to_bin(tmp_path, monkeypatch):
    from streamdrift.io import FileSource

    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"a": np.zeros(4)}), path)
    big = np.finfo(np.float64).max
    monkeypatch.setattr(FileSource, "statistics_range", lambda self, column: (-big, big))
    ref = load_reference(str(path), edges="reference")
    assert (ref.range("a").lo, ref.range("a").hi) == (0.0, 0.0) and ref.fixed["a"].counts[-1] == 4


def test_undefined_kl_is_reported_not_raised():
    ref = load_reference({"a": [1.0, 2.0]})
    cur = pa.table({"a": [np.nan, np.nan, 1.5]})
    (w0, w1) = run(ref, cur, [], window=2)
    assert w0.features[0].kl is None and "no finite values in current" in w0.features[0].reason
    assert w1.features[0].kl is not None and w1.partial


def test_reference_columns_are_checked():
    with pytest.raises(DriftError, match="column 'zz' is not in reference.*its columns are: a, b, s"):
        load_reference(REF, columns=["zz"])
    with pytest.raises(DriftError, match="column 's' .* not a number"):
        load_reference(REF, columns=["s"])
    assert load_reference(REF).features == ["a", "b"]


def test_bad_window_and_edges():
    with pytest.raises(DriftError, match="window"):
        Watcher(PROFILE_REF, window=0)
    with pytest.raises(DriftError, match="edges"):
        Watcher(PROFILE_REF, edges="both")
    with pytest.raises(DriftError, match="profile"):
        Watcher(load_reference(REF, columns=COLUMNS, edges="reference"), edges="combined")


# ------------------------------------------------------------------------------ sources


def write_parts(folder, table, n, **kw):
    folder.mkdir(exist_ok=True)
    rows = np.array_split(np.arange(table.num_rows), n)
    paths = []
    for i, r in enumerate(rows):
        p = folder / f"part-{i:03d}.parquet"
        pq.write_table(table.slice(int(r[0]), r.size), p, **kw)
        paths.append(p)
    return paths


def collect(items):
    rows, problems = [], []
    for item in items:
        if isinstance(item, Problem):
            problems.append(item)
        else:
            assert item.schema.names == COLUMNS
            rows.append(item.column("a").to_numpy(zero_copy_only=False))
    return (np.concatenate(rows) if rows else np.empty(0)), problems


def test_directory_in_name_order_with_a_bad_file_skipped(tmp_path):
    parts = write_parts(tmp_path / "d", CUR, 4)
    (tmp_path / "d" / "part-001b.parquet").write_bytes(b"PAR1 this is not really parquet")
    (tmp_path / "d" / "_SUCCESS").write_bytes(b"")
    values, problems = collect(batches([str(tmp_path / "d")], COLUMNS, batch_size=300))
    np.testing.assert_array_equal(values, CUR.column("a").to_numpy(zero_copy_only=False))
    assert [p.where for p in problems] == [f"'{tmp_path / 'd' / 'part-001b.parquet'}'"]
    assert "part-001b.parquet" in str(problems[0].error)
    assert len(parts) == 4


def test_file_missing_a_column_names_file_and_column(tmp_path):
    write_parts(tmp_path / "d", CUR, 2)
    pq.write_table(CUR.drop(["b"]), tmp_path / "d" / "part-000a.parquet")
    _, problems = collect(batches([str(tmp_path / "d")], COLUMNS))
    (p,) = problems
    assert "column 'b' is missing from" in str(p.error) and "part-000a.parquet" in str(p.error)


def test_file_changing_a_type_is_a_problem_naming_file_and_column(tmp_path):
    write_parts(tmp_path / "d", CUR, 2)
    changed = CUR.slice(0, 10).set_column(1, "b", pa.array(np.arange(10, dtype=np.float64)))
    pq.write_table(changed, tmp_path / "d" / "part-000a.parquet")
    values, problems = collect(batches([str(tmp_path / "d")], COLUMNS))
    (p,) = problems
    assert str(p.error).startswith(f"column 'b' in '{tmp_path / 'd' / 'part-000a.parquet'}' has type double, "
                                   "but earlier data had int64")
    assert values.size == CUR.num_rows


def test_a_file_without_rows_does_not_fix_the_types(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    pq.write_table(pa.table({"a": pa.array([], pa.null()), "b": pa.array([], pa.int32())}), folder / "part-0.parquet")
    write_parts(folder, CUR, 2)
    pq.write_table(pa.table({"a": pa.array([], pa.int8()), "b": pa.array([], pa.float32())}), folder / "part-2.parquet")
    values, problems = collect(batches([str(folder)], COLUMNS))
    assert problems == [] and values.size == CUR.num_rows


def test_stdin_stream_after_files_keeps_the_types(tmp_path):
    pq.write_table(CUR, tmp_path / "first.parquet")
    sink = io.BytesIO()
    floats = CUR.select(COLUMNS).cast(pa.schema([("a", pa.float64()), ("b", pa.float64())]))
    with pa.ipc.new_stream(sink, floats.schema) as w:
        w.write_table(floats)
    items = list(batches([str(tmp_path / "first.parquet"), "-"], COLUMNS, stdin=io.BytesIO(sink.getvalue())))
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.where for p in problems] == ["standard input"]
    assert "column 'b' in standard input has type double, but earlier data had int64" in str(problems[0].error)


def test_truncated_file_keeps_the_rows_read(tmp_path):
    """An Arrow stream cut short: its complete batches are kept and the problem is reported."""
    path = tmp_path / "cut.arrows"
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, CUR.select(COLUMNS).schema) as w:
        for b in CUR.select(COLUMNS).to_batches(max_chunksize=1000):
            w.write_batch(b)
    data = sink.getvalue()
    path.write_bytes(data[: len(data) - 500])
    values, problems = collect(batches([str(path)], COLUMNS))
    assert values.size == 2000 and len(problems) == 1 and problems[0].rows == 2000


def stream_bytes(table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        for b in table.to_batches(max_chunksize=700):
            w.write_batch(b)
    return sink.getvalue()


def test_stdin_arrow_stream_and_parquet():
    values, problems = collect(_stdin_batches(COLUMNS, 1000, io.BufferedReader(io.BytesIO(stream_bytes(CUR)))))
    assert not problems and values.size == CUR.num_rows
    buf = io.BytesIO()
    pq.write_table(CUR, buf)
    values, problems = collect(_stdin_batches(COLUMNS, 1000, io.BytesIO(buf.getvalue())))
    assert not problems and values.size == CUR.num_rows


@pytest.mark.parametrize(
    "data, message",
    [(b"", "standard input is empty"), (b"hello, world", "not an Arrow IPC stream or Parquet"),
     (b"PAR1garbagegarbage", "cannot read standard input")],
)
def test_stdin_problems(data, message):
    _, problems = collect(_stdin_batches(COLUMNS, 1000, io.BytesIO(data)))
    assert len(problems) == 1 and message in str(problems[0].error)
    assert "/stdin" not in str(problems[0].error)


def test_stdin_stream_missing_column():
    _, problems = collect(_stdin_batches(COLUMNS, 1000, io.BytesIO(stream_bytes(CUR.drop(["a"])))))
    assert "column 'a' is missing from standard input" in str(problems[0].error)


def test_stdin_stream_batches_arrive_before_the_end():
    """A batch is handed on as soon as it arrives, not when the stream ends."""
    r, w = os.pipe()
    reader = open(r, "rb")
    data = stream_bytes(CUR.select(COLUMNS))
    writer = open(w, "wb")
    # Write the schema and the first batch only, keep the pipe open.
    first = len(stream_bytes(CUR.select(COLUMNS).slice(0, 700))) - 8
    writer.write(data[:first])
    writer.flush()
    items = Background(_stdin_batches(COLUMNS, 1000, reader))
    it = iter(items)
    got = next(it)
    assert got.num_rows == 700
    writer.write(data[first:])
    writer.close()
    rest = sum(b.num_rows for b in it)
    assert rest == CUR.num_rows - 700
    items.close()
    reader.close()


def test_check_sources(tmp_path):
    assert check_sources([], False) == ["-"]
    with pytest.raises(DriftError, match="no such file"):
        check_sources([str(tmp_path / "nope")], False)
    with pytest.raises(DriftError, match="--follow watches one directory"):
        check_sources(["-"], True)
    with pytest.raises(DriftError, match="only once"):
        check_sources(["-", "-"], False)


def test_complete_detects_unfinished_files(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(CUR, p)
    data = p.read_bytes()
    assert complete(p)
    p.write_bytes(data[:-100])
    assert not complete(p)
    s = tmp_path / "x.arrows"
    whole = stream_bytes(CUR)
    s.write_bytes(whole[:-8])
    assert not complete(s)
    s.write_bytes(whole)
    assert complete(s)
    f = tmp_path / "x.arrow"
    with pa.ipc.new_file(f, CUR.schema) as w:
        w.write_table(CUR)
    assert complete(f)
    f.write_bytes(f.read_bytes()[:-10])
    assert not complete(f)


def test_complete_is_not_fooled_by_a_stream_whose_last_bytes_are_zero(tmp_path):
    """An Arrow stream cut after a batch (int64 data: zero bytes at its end) is still being written."""
    table = pa.table({"x": pa.array(np.arange(100), pa.int64())})
    whole = stream_bytes(table)
    s = tmp_path / "x.arrows"
    s.write_bytes(whole[:-8])
    assert s.read_bytes()[-4:] == b"\x00\x00\x00\x00"
    assert not complete(s)
    value = pa.table({"x": pa.array([0xFFFFFFFF] * 7, pa.int64())})  # a body ending like the end marker
    s.write_bytes(stream_bytes(value)[:-8])
    assert s.read_bytes()[-8:] == b"\xff\xff\xff\xff\x00\x00\x00\x00"
    assert not complete(s)
    s.write_bytes(stream_bytes(value))
    assert complete(s)


def test_follower_reads_a_backlog_of_complete_files_in_one_poll(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        pq.write_table(CUR.slice(i * 100, 100), folder / f"part-{i}.parquet")
    stop = threading.Event()
    follower = Follower(folder, poll_interval=0.5, give_up_after=600, stop=stop)
    items = Background(follower.batches(COLUMNS, 10_000), stop=stop)
    started = time.monotonic()
    got = [next(iter(items)).num_rows for _ in range(6)]
    took = time.monotonic() - started
    stop.set()
    items.close()
    assert got == [100] * 6
    assert took < 2.0, f"6 complete files took {took:.1f} s at a 0.5 s poll: one file per poll"


def test_follower_waits_for_complete_files_in_order(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    stop = threading.Event()
    follower = Follower(folder, poll_interval=0.02, give_up_after=600, stop=stop)
    items = Background(follower.batches(COLUMNS, 10_000), stop=stop)
    it = iter(items)
    buf = io.BytesIO()
    pq.write_table(CUR.slice(0, 1000), buf)
    data = buf.getvalue()
    # part-0 is being written (no footer yet); part-1 is complete but must wait behind it.
    (folder / "part-0.parquet").write_bytes(data[: len(data) // 2])
    pq.write_table(CUR.slice(1000, 500), folder / "part-1.parquet")
    (folder / ".part-2.parquet.tmp").write_bytes(b"ignored")
    time.sleep(0.3)
    assert items._q.empty()
    (folder / "part-0.parquet").write_bytes(data)
    first = next(it)
    assert first.num_rows == 1000
    assert np.array_equal(first.column("a").to_numpy(zero_copy_only=False),
                          CUR.column("a").to_numpy(zero_copy_only=False)[:1000], equal_nan=True)
    assert next(it).num_rows == 500
    stop.set()
    items.close()
    assert follower.done == {folder / "part-0.parquet", folder / "part-1.parquet"}


def test_follower_gives_up_on_a_file_that_never_completes(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.parquet").write_bytes(b"PAR1 and then nothing")
    follower = Follower(folder, poll_interval=0.01, give_up_after=0.05)
    gen = follower.batches(COLUMNS, 1000)
    item = next(gen)
    assert isinstance(item, Problem) and "still incomplete" in str(item.error)
    follower.stop.set()


def test_watch_api(tmp_path):
    write_parts(tmp_path / "d", CUR, 3)
    (tmp_path / "d" / "zz.parquet").write_bytes(b"nope")
    problems = []
    windows = list(watch(REF, [tmp_path / "d"], window=1000, columns=COLUMNS, on_problem=problems.append))
    assert sum(w.rows for w in windows) == CUR.num_rows
    assert len(problems) == 1 and "zz.parquet" in str(problems[0].error)
    with pytest.raises(DriftError, match="zz.parquet"):
        list(watch(REF, [tmp_path / "d"], window=1000, columns=COLUMNS))


@settings(max_examples=60)
@given(feature_pairs(), st.data())
def test_every_window_equals_the_numpy_oracle(pair, data):
    """Each window's counts and KL are SPEC section 2 on (reference, that window's rows)."""
    ref_values, cur_values = pair
    window = data.draw(st.integers(1, max(1, len(cur_values))))
    cuts = data.draw(splits(len(cur_values)))
    bins = data.draw(st.sampled_from([1, 2, 20, 33]))
    reference = load_reference({"x": ref_values})
    windows = run(reference, pa.table({"x": cur_values}), cuts, window=window, bins=bins)
    assert sum(w.rows for w in windows) == len(cur_values)
    for w in windows:
        (got,) = w.features
        want = oracle_feature(ref_values, cur_values[w.start_row : w.end_row], bins=bins)
        assert (got.reference_count, got.current_count) == (want["reference_count"], want["current_count"])
        assert (got.missing_reference, got.missing_current) == (want["missing_reference"], want["missing_current"])
        if want["kl"] is None or range_problem(want["lo"], want["hi"], bins):
            assert got.kl is None and got.reason
            continue
        assert got.reference_counts == want["ref_counts"].tolist()
        assert got.current_counts == want["cur_counts"].tolist()
        assert abs(got.kl - want["kl"]) <= 1e-12
