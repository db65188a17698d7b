"""compare() decodes the reference while the current side is opened (comparison.EarlyRead)."""

import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift import DriftError, compare, detect_drift
from streamdrift.io import FileSource


def write_parts(folder, tables):
    folder.mkdir()
    for i, t in enumerate(tables):
        pq.write_table(t, folder / f"part-{i:03d}.parquet")
    return folder


def tables(seed, parts=4, rows=500, shift=0.0):
    rng = np.random.default_rng(seed)
    return [pa.table({"x": rng.normal(shift, 1, rows), "n": rng.integers(-50, 50, rows),
                      "s": pa.array(rng.choice(["a", "b", "c"], rows))}) for _ in range(parts)]


def reader_threads():
    return [t for t in threading.enumerate() if t.name == "streamdrift-read"]


def same(a, b):
    return [f.to_dict() for f in a] == [f.to_dict() for f in b]


def test_the_reference_is_decoded_while_the_current_files_are_opened(tmp_path, monkeypatch):
    r = write_parts(tmp_path / "r", tables(1))
    c = write_parts(tmp_path / "c", tables(2, shift=0.5))
    reading, waited = threading.Event(), []
    batches, init = FileSource.batches, FileSource.__init__

    def noted(self, columns, batch_size):
        if self.name == f"'{r}'":
            reading.set()
        return batches(self, columns, batch_size)

    def opening(self, paths, name, *args, **kwargs):
        if name == f"'{c}'":  # the current side opens only once the reference is being read
            waited.append(reading.wait(10))
        init(self, paths, name, *args, **kwargs)

    monkeypatch.setattr(FileSource, "batches", noted)
    monkeypatch.setattr(FileSource, "__init__", opening)
    got = compare(str(r), str(c))
    assert waited == [True]
    monkeypatch.undo()
    assert same(got, compare(str(r), str(c), use_statistics=False))
    assert got["x"].drifted and got["s"].kl is not None


def test_an_early_read_of_other_columns_is_dropped_and_the_result_is_exact(tmp_path):
    """The reference alone has no feature 'z' (Arrow's null type), the current makes it numeric:
    the early read lacks it, is dropped, and the counts are read again with it."""
    ref = pa.table({"x": np.arange(100.0), "z": pa.nulls(100)})
    cur = pa.table({"x": np.arange(100.0) + 30, "z": np.linspace(0, 1, 100)})
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    got = compare(tmp_path / "r.parquet", tmp_path / "c.parquet")
    assert list(got.kl()) == ["x", "z"] and got["z"].kl is None
    assert same(got, compare(tmp_path / "r.parquet", tmp_path / "c.parquet", use_statistics=False))
    assert same(got, compare(ref, cur))
    for t in reader_threads():
        t.join(10)
    assert not reader_threads()


@pytest.mark.parametrize("bad", ["missing", "corrupt"])
def test_a_bad_current_side_is_named_and_the_early_reader_stops(tmp_path, bad):
    r = write_parts(tmp_path / "r", tables(3, parts=6, rows=20_000))
    c = tmp_path / "c.parquet"
    if bad == "corrupt":
        c.write_bytes(b"PAR1 not a parquet file PAR1")
    with pytest.raises(DriftError, match=str(c)):
        compare(str(r), str(c))
    for t in reader_threads():  # stopped: not left waiting for a current side that never came
        t.join(10)
    assert not reader_threads()


def test_detect_drift_and_named_columns_read_early_too(tmp_path, capsys):
    r = write_parts(tmp_path / "r", tables(4))
    c = write_parts(tmp_path / "c", tables(5, shift=1.0))
    got = compare(str(r), str(c), columns=["x"])
    assert list(got.kl()) == ["x"] and same(got, compare(str(r), str(c), columns=["x"], use_statistics=False))
    ref = pa.concat_tables(tables(4)).drop_columns(["s"]).to_pandas()
    cur = pa.concat_tables(tables(5, shift=1.0)).drop_columns(["s"]).to_pandas()
    assert detect_drift(ref, cur) == detect_drift(str(r), str(c))
    assert capsys.readouterr().out.count("Drifted: x") == 2


def test_both_sides_are_decoded_at_the_same_time(tmp_path, monkeypatch):
    """Each side's reader waits, at its second batch, for the other side's reading to start:
    only readers working at the same time both get past it (files of row groups; sides of many
    small part files are scanned ahead by pyarrow, one side after the other)."""
    r, c = tmp_path / "r.parquet", tmp_path / "c.parquet"
    pq.write_table(pa.concat_tables(tables(6, parts=3, rows=3000)), r, row_group_size=1000)
    pq.write_table(pa.concat_tables(tables(7, parts=3, rows=3000, shift=0.3)), c, row_group_size=1000)
    started = {f"'{r}'": threading.Event(), f"'{c}'": threading.Event()}
    waited = []
    batches = FileSource.batches

    def both(self, columns, batch_size):
        started[self.name].set()
        other = next(event for name, event in started.items() if name != self.name)
        for k, batch in enumerate(batches(self, columns, batch_size)):
            if k == 1:
                waited.append(other.wait(10))
            yield batch

    monkeypatch.setattr(FileSource, "batches", both)
    got = compare(str(r), str(c), batch_size=1000, columns=["x", "n"])
    assert waited == [True, True]
    monkeypatch.undo()
    assert same(got, compare(str(r), str(c), batch_size=1000, columns=["x", "n"], use_statistics=False))
