"""Data files: directory listings, footers read once per run of alike files, small part files read as one."""

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift import compare
from streamdrift.files import Footers, listing
from streamdrift.io import FileSource


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


def test_a_run_of_alike_footers_shares_one_schema_and_each_schema_is_pyarrows(tmp_path):
    tables = [
        pa.table({"x": [1.0, 2.0], "t": pa.array([1, 2], pa.timestamp("ms", tz="UTC"))}),
        pa.table({"x": [3.0], "t": pa.array([3], pa.timestamp("ms", tz="UTC"))}),
        pa.table({"x": [1, 2], "t": pa.array([1, 2], pa.timestamp("ms", tz="UTC"))}),  # x is int64 here
        pa.table({"x": pa.array(["a", "b"]).dictionary_encode(), "t": pa.array([1, 2], pa.timestamp("us"))}),
    ]
    footers, got = Footers(), []
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
