"""Data files: directory listings, footers read once per run of alike files, small part files read as one."""

import gc
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift import DriftError, compare
from streamdrift.files import Footers, file_format, listing, parquet_statistics_range
from streamdrift.io import FileSource
from streamdrift import parts as parts_module
from streamdrift.parts import Parts


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_listing_is_path_order_part_by_part_and_skips_hidden_names_at_any_depth(tmp_path):
    for name in ["a/b.parquet", "a-c.parquet", "a/z/deep.parquet", "b.parquet", "a/_tmp/x.parquet",
                 "a/.hidden/y.parquet", "_SUCCESS", "a/.crc", "c/_metadata", "c/part-1.parquet"]:
        touch(tmp_path / name)
    os.symlink(tmp_path / "b.parquet", tmp_path / "link.parquet")  # a link to a file is a file
    os.symlink(tmp_path / "a", tmp_path / "linked-dir")  # a link to a directory is not followed
    os.mkfifo(tmp_path / "pipe")  # not a regular file
    got = listing(tmp_path)
    # Path order compares part by part: 'a/b' comes before 'a-c' (as strings, '-' sorts before '/')
    assert [p.relative_to(tmp_path).as_posix() for p in got] == [
        "a/b.parquet", "a/z/deep.parquet", "a-c.parquet", "b.parquet", "c/part-1.parquet", "link.parquet"]
    assert got == sorted(got)


@pytest.mark.parametrize("fragments", [False, True], ids=["pyarrow.parquet", "dataset fragments"])
def test_a_run_of_alike_footers_shares_one_schema_and_each_schema_is_pyarrows(tmp_path, fragments):
    tables = [
        pa.table({"x": [1.0, 2.0], "t": pa.array([1, 2], pa.timestamp("ms", tz="UTC"))}),
        pa.table({"x": [3.0], "t": pa.array([3], pa.timestamp("ms", tz="UTC"))}),
        pa.table({"x": [1, 2], "t": pa.array([1, 2], pa.timestamp("ms", tz="UTC"))}),  # x is int64 here
        pa.table({"x": pa.array(["a", "b"]).dictionary_encode(), "t": pa.array([1, 2], pa.timestamp("us"))}),
    ]
    footers, got = Footers(Parts() if fragments else None), []
    for i, t in enumerate(tables):
        pq.write_table(t, tmp_path / f"p{i}.parquet")
        got.append(footers.read(tmp_path / f"p{i}.parquet"))
    for i, (footer, schema) in enumerate(got):
        with pq.ParquetFile(tmp_path / f"p{i}.parquet") as pf:
            assert schema.equals(pf.schema_arrow, check_metadata=True)
            assert footer.num_rows == pf.metadata.num_rows
    assert got[1][1] is got[0][1]  # written alike: worked out once
    assert got[2][1] is not got[1][1] and got[3][1] is not got[2][1]


def test_many_small_part_files_are_counted_in_batches_of_the_batch_size_and_agree_with_one_file(tmp_path):
    rng = np.random.default_rng(5)
    whole = pa.table({"a": rng.normal(0, 1, 3000), "b": rng.integers(-50, 50, 3000),
                      "c": np.where(rng.random(3000) < 0.1, np.nan, rng.normal(3, 1, 3000))})
    ref = pa.table({"a": rng.normal(0.2, 1, 2000), "b": rng.integers(-40, 60, 2000), "c": rng.normal(3, 2, 2000)})
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(30):
        pq.write_table(whole.slice(i * 100, 100), parts / f"part-{i:03d}.parquet")
    pq.write_table(whole, tmp_path / "whole.parquet")
    pq.write_table(ref, tmp_path / "ref.parquet")
    with FileSource(listing(parts), "'parts'") as source:
        sizes = [b.num_rows for b in source.batches(["a", "b", "c"], batch_size=700)]
    assert sum(sizes) == 3000 and all(s >= 700 for s in sizes[:-1]) and len(sizes) < 30
    expected = [f.to_dict() for f in compare(tmp_path / "ref.parquet", tmp_path / "whole.parquet")]
    assert [f.to_dict() for f in compare(tmp_path / "ref.parquet", parts, batch_size=700)] == expected
    assert [f.to_dict() for f in compare(tmp_path / "ref.parquet", parts, use_statistics=False)] == expected


def write_parts(folder, tables):
    folder.mkdir()
    for i, t in enumerate(tables):
        pq.write_table(t, folder / f"part-{i:03d}.parquet")
    return listing(folder)


def test_small_parts_footers_are_read_once_as_fragments_and_give_pyarrows_footers(tmp_path):
    rng = np.random.default_rng(3)
    tables = [pa.table({"x": rng.normal(0, 1, 50), "n": rng.integers(-9, 9, 50)}) for _ in range(5)]
    paths = write_parts(tmp_path / "parts", tables)
    with FileSource(paths, "'parts'") as source:
        assert source._parts is not None  # read as one dataset
        assert source.rows() == 250
        for column in ("x", "n"):
            expected = [parquet_statistics_range(pq.read_metadata(p), pq.read_schema(p), column) for p in paths]
            assert source.statistics_range(column) == (min(e[0] for e in expected), max(e[1] for e in expected))
        got = pa.Table.from_batches(source.batches(["x", "n"], batch_size=100))
    whole = pa.concat_tables(tables)
    for column in ("x", "n"):
        assert sorted(got.column(column).to_pylist()) == sorted(whole.column(column).to_pylist())


def test_part_files_leave_no_reference_cycles_for_the_garbage_collector(tmp_path):
    """Thousands of footers are freed as soon as they are dropped: a footer in a reference cycle
    waits for the collector, and the collector runs often while thousands of them are read."""
    paths = write_parts(tmp_path / "parts", [pa.table({"x": [1.0, 2.0], "y": [1, 2]})] * 5)

    def read():
        with FileSource(paths, "'parts'") as source:
            assert source.statistics_ranges(["x", "y"]) == {"x": (1.0, 2.0), "y": (1.0, 2.0)}
            assert sum(b.num_rows for b in source.batches(["x", "y"], 4)) == 10

    read()  # imports and caches made once
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage, to be looked at
    try:
        read()
        gc.collect()
        cycles = [type(o).__name__ for o in gc.garbage if type(o).__module__.startswith("pyarrow")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert cycles == []


def test_a_corrupt_small_part_file_is_named_once_in_pyarrows_words(tmp_path):
    paths = write_parts(tmp_path / "parts", [pa.table({"x": [1.0, 2.0]})] * 9)
    for bad in (8, 1, 4):  # footers are read on several threads: the first bad file in order is named
        paths[bad].write_bytes(b"PAR1garbagegarbage")
    with pytest.raises(DriftError) as caught:
        FileSource(paths, "'parts'")
    assert str(caught.value) == (f"cannot read '{paths[1]}': Parquet magic bytes not found in footer. "
                                 "Either the file is corrupted or this is not a parquet file.")


def test_small_parts_named_parquet_are_not_opened_to_sniff_their_format(tmp_path, monkeypatch):
    paths = write_parts(tmp_path / "parts", [pa.table({"x": [1.0, 2.0]})] * 4)
    sniffed = []
    monkeypatch.setattr(parts_module, "file_format", lambda p: sniffed.append(p) or file_format(p))
    with FileSource(paths, "'parts'") as source:
        assert source._parts is not None and source.rows() == 8
    assert sniffed == []  # each footer that reads proves its file is Parquet
    with FileSource(paths + [write_parts(tmp_path / "other", [pa.table({"x": [3.0]})])[0]], "'parts'") as source:
        assert source._parts is not None and source.rows() == 9 and sniffed == []


@pytest.mark.parametrize("head", [b"", b"hello world", b"\xff\xff\xff\xffnot a stream"])
def test_a_small_part_named_parquet_that_is_not_parquet_is_named_as_any_unknown_file(tmp_path, head):
    paths = write_parts(tmp_path / "parts", [pa.table({"x": [1.0, 2.0]})] * 6)
    paths[1].write_bytes(b"PAR1garbagegarbage")  # a broken footer comes first: unknown formats are named first
    paths[4].write_bytes(head)
    with pytest.raises(DriftError) as caught:
        FileSource(paths, "'parts'")
    if head.startswith(b"\xff"):  # an Arrow IPC stream by its magic bytes: read as one, file by file
        assert str(caught.value).startswith(f"cannot read '{paths[1]}': Parquet magic bytes not found")
    else:
        what = "is empty" if not head else f"starts with {head[:4]!r}"
        assert str(caught.value) == (f"'{paths[4]}' is not a Parquet or Arrow IPC file (it {what}); pass "
                                     "Parquet files, a directory of them, or an Arrow IPC stream")


def test_an_arrow_ipc_file_named_parquet_among_small_parts_is_read_as_arrow(tmp_path):
    rng = np.random.default_rng(6)
    whole = pa.table({"x": rng.normal(0, 1, 300), "n": rng.integers(-9, 9, 300)})
    paths = write_parts(tmp_path / "parts", [whole.slice(i * 100, 100) for i in range(3)])
    with pa.ipc.new_file(paths[1], whole.schema) as writer:  # a writer that names everything .parquet
        writer.write_table(whole.slice(100, 100))
    pq.write_table(whole, tmp_path / "whole.parquet")
    ref = pa.table({"x": rng.normal(0.5, 1, 200), "n": rng.integers(-5, 9, 200)})
    assert [f.to_dict() for f in compare(ref, paths)] == [f.to_dict() for f in compare(ref, tmp_path / "whole.parquet")]


def test_part_files_written_alike_share_one_schema_object_and_each_schema_is_pyarrows(tmp_path):
    a, b = pa.table({"x": [1.0, 2.0], "n": [1, 2]}), pa.table({"x": [1, 2], "n": [1.5, 2.5]})
    tables = [a] * 7 + [b] * 2 + [a] * 30 + [b]  # runs longer than a footer thread's
    paths = write_parts(tmp_path / "parts", tables)
    with FileSource(paths, "'parts'") as source:
        assert source._parts is not None and source.rows() == 80
        for path, schema in zip(paths, source._schemas):
            assert schema.equals(pq.read_schema(path), check_metadata=True)
        assert len({id(s) for s in source._schemas}) == 4  # one per run of alike files


def test_large_part_files_named_parquet_are_read_file_by_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    whole = pa.table({"x": rng.normal(0, 1, 400)})
    paths = write_parts(tmp_path / "parts", [whole.slice(i * 100, 100) for i in range(4)])
    monkeypatch.setattr(parts_module, "SMALL_PART_BYTES", min(p.stat().st_size for p in paths) - 1)
    with FileSource(paths, "'parts'") as source:
        assert source._parts is None and source.rows() == 400
        assert [b.num_rows for b in source.batches(["x"], 1000)] == [100] * 4  # in file order
    pq.write_table(whole, tmp_path / "whole.parquet")
    ref = pa.table({"x": rng.normal(0.3, 1, 200)})
    assert [f.to_dict() for f in compare(ref, paths)] == [f.to_dict() for f in compare(ref, tmp_path / "whole.parquet")]


def test_large_part_files_named_parquet_have_their_footers_read_once(tmp_path, monkeypatch):
    """Their footers, read as fragments on threads, serve reading them file by file: no file's footer
    is opened a second time."""
    from streamdrift import files as files_module

    paths = write_parts(tmp_path / "parts", [pa.table({"x": np.arange(100.0)})] * 4)
    monkeypatch.setattr(parts_module, "SMALL_PART_BYTES", min(p.stat().st_size for p in paths) - 1)
    opened, parquet_file = [], pq.ParquetFile
    monkeypatch.setattr(files_module.pq, "ParquetFile", lambda *a, **k: opened.append(a) or parquet_file(*a, **k))
    with FileSource(paths, "'parts'") as source:
        assert source._parts is None and source.rows() == 400
    assert opened == []


def test_small_parts_of_other_types_are_read_file_by_file_and_agree(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, 300)
    ints = pa.table({"x": pa.array(np.round(x * 100).astype(np.int64))})
    floats = pa.table({"x": pa.array(np.round(x * 100))})
    paths = write_parts(tmp_path / "parts", [ints.slice(0, 100), floats.slice(100, 100), ints.slice(200, 100)])
    pq.write_table(floats, tmp_path / "whole.parquet")
    ref = pa.table({"x": rng.normal(0, 120, 200)})
    assert [f.to_dict() for f in compare(ref, paths)] == [f.to_dict() for f in compare(ref, tmp_path / "whole.parquet")]


def test_a_small_part_without_a_compared_column_is_named(tmp_path):
    paths = write_parts(tmp_path / "parts", [pa.table({"x": [1.0, 2.0], "y": [1.0, 3.0]}), pa.table({"x": [3.0]})])
    with pytest.raises(DriftError, match=f"^column 'y' is missing from '{paths[1]}'"):
        compare(pa.table({"x": [1.0, 2.0], "y": [0.0, 1.0]}), paths, columns=["x", "y"])


def test_the_first_small_part_without_a_compared_column_is_named_among_runs_of_alike_files(tmp_path):
    xy, x = pa.table({"x": [1.0, 2.0], "y": [1.0, 3.0]}), pa.table({"x": [3.0]})
    paths = write_parts(tmp_path / "parts", [xy, xy, xy, x, x, xy, x])
    with pytest.raises(DriftError, match=f"^column 'y' is missing from '{paths[3]}'"):
        compare(pa.table({"x": [1.0, 2.0], "y": [0.0, 1.0]}), paths, columns=["x", "y"])


def test_a_directory_among_the_paths_is_named(tmp_path):
    with pytest.raises(DriftError, match=f"^cannot read '{tmp_path}': is a directory$"):
        file_format(tmp_path)


def test_statistics_ranges_of_all_columns_at_once_equal_each_columns_own(tmp_path):
    """One pass over each footer for every column gives what each column's own pass gives: a file
    with an unusable bound (inf, no statistics, all null) makes only that column unknown."""
    rng = np.random.default_rng(5)
    tables = []
    for i in range(6):
        x = rng.normal(0, 1, 40)
        tables.append(pa.table({
            "x": x,
            "inf": np.where(np.arange(40) == 3, np.inf, x) if i == 4 else x,
            "nulls": pa.array([None] * 40, type=pa.float64()) if i == 2 else pa.array(x),
            "i8": pa.array(rng.integers(-100, 100, 40), type=pa.int8()),
            "f32": pa.array(x, type=pa.float32()),
            "flag": pa.array(x > 0),
            "u64": pa.array(rng.integers(0, 100, 40), type=pa.uint64()),
        }))
    paths = write_parts(tmp_path / "parts", tables)
    columns = tables[0].column_names + ["absent"]
    with FileSource(paths, "'parts'") as source:
        got = source.statistics_ranges(columns)
        assert got == {c: source.statistics_range(c) for c in columns}
    for column in columns:
        each = [parquet_statistics_range(pq.read_metadata(p), pq.read_schema(p), column) for p in paths]
        expected = None if None in each else (min(e[0] for e in each), max(e[1] for e in each))
        assert got[column] == expected, column
    assert got["x"] is not None and got["i8"] is not None and got["f32"] is not None and got["flag"] == (0.0, 1.0)
    assert got["inf"] is None and got["nulls"] is None and got["u64"] is None and got["absent"] is None
