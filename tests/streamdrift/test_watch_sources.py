"""The sources of ``watch``: files, directories, standard input, and following a directory (in process)."""

import io
import os
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift.background import Background
from streamdrift.errors import DriftError
from streamdrift.watch import Follower, Problem, batches, check_sources, complete, file_batches, stdin_batches
from tests.streamdrift.watch_data import COLUMNS, CUR, stream_bytes, write_parts


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


def test_stdin_arrow_stream_and_parquet():
    values, problems = collect(stdin_batches(COLUMNS, 1000, io.BufferedReader(io.BytesIO(stream_bytes(CUR)))))
    assert not problems and values.size == CUR.num_rows
    buf = io.BytesIO()
    pq.write_table(CUR, buf)
    values, problems = collect(stdin_batches(COLUMNS, 1000, io.BytesIO(buf.getvalue())))
    assert not problems and values.size == CUR.num_rows


@pytest.mark.parametrize(
    "data, message",
    [(b"hello, world", "not an Arrow IPC stream or Parquet"),
     (b"PAR1garbagegarbage", "cannot read standard input")],
)
def test_stdin_problems(data, message):
    _, problems = collect(stdin_batches(COLUMNS, 1000, io.BytesIO(data)))
    assert len(problems) == 1 and message in str(problems[0].error)
    assert "/stdin" not in str(problems[0].error)


def test_empty_stdin_is_an_error_not_a_problem_to_skip():
    with pytest.raises(DriftError, match="^standard input is empty; pipe an Arrow IPC stream or Parquet into it$"):
        collect(stdin_batches(COLUMNS, 1000, io.BytesIO(b"")))


def test_stdin_stream_missing_column():
    _, problems = collect(stdin_batches(COLUMNS, 1000, io.BytesIO(stream_bytes(CUR.drop(["a"])))))
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
    items = Background(stdin_batches(COLUMNS, 1000, reader))
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


def follow_batches(follower):
    for path, error in follower.files():
        if error is not None:
            yield Problem(f"'{path}'", error)
        else:
            yield from file_batches(path, COLUMNS, 10_000)


def test_follower_reads_a_backlog_of_complete_files_in_one_poll(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        pq.write_table(CUR.slice(i * 100, 100), folder / f"part-{i}.parquet")
    stop = threading.Event()
    follower = Follower(folder, poll_interval=0.5, give_up_after=600, stop=stop)
    items = Background(follow_batches(follower), stop=stop)
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
    items = Background(follow_batches(follower), stop=stop)
    it = iter(items)
    buf = io.BytesIO()
    pq.write_table(CUR.slice(0, 1000), buf)
    data = buf.getvalue()
    # part-0 is being written (no footer yet); part-1 is complete but must wait behind it.
    (folder / "part-0.parquet").write_bytes(data[: len(data) // 2])
    pq.write_table(CUR.slice(1000, 500), folder / "part-1.parquet")
    (folder / ".part-2.parquet.tmp").write_bytes(b"ignored")
    time.sleep(0.3)
    assert items.ahead == 0
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
    gen = follow_batches(follower)
    item = next(gen)
    assert isinstance(item, Problem) and "still incomplete" in str(item.error)
    assert "skipped" not in str(item.error)  # the command says "(skipped)" itself, or stops with --strict
    follower.stop.set()
