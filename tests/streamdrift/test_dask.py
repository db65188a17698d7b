"""compare and profile on a real Dask cluster (2 worker processes on 127.0.0.1): bit-identical
to a local run on partitioned files and dask DataFrames; worker death, Ctrl-C, bad paths."""

import os
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamdrift
from streamdrift.cluster import DaskExecutor
from streamdrift.errors import DriftError
from streamdrift.io import open_source
from streamdrift.profile import Profile
from tests.dask_helpers import both_workers, graphs_of, interrupt_while_running, kill_a_busy_worker, left_on_scheduler
from tests.strategies import examples

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


# ---------------------------------------------------------------- partitioned files, drawn

VALUES = st.one_of(
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5]),
    st.floats(-1e6, 1e6, allow_nan=False),
)


@st.composite
def row_groups(draw):
    """One row group: rows of (a float64, b int64 or float32 by file); sometimes all NaN."""
    n = draw(st.integers(0, 12))
    if draw(st.integers(0, 5)) == 0:
        return [np.nan] * n, draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))
    return draw(st.lists(VALUES, min_size=n, max_size=n)), draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))


@st.composite
def datasets(draw):
    """Files: each a list of row groups (none: an empty file), some with lying footers."""
    files = draw(st.lists(st.lists(row_groups(), max_size=4), min_size=1, max_size=5))
    lies = draw(st.lists(st.sampled_from([None, 2.0, -3.0, 0.25]), min_size=len(files), max_size=len(files)))
    return files, lies


def write_file(path, groups, lie, schema):
    """A Parquet file, one row group per drawn group; ``lie``: every value of column a in the file's
    data pages multiplied by it afterwards, so the footer's min/max no longer hold."""
    with pq.ParquetWriter(path, schema, compression="none", use_dictionary=False) as writer:
        for a, b in groups:
            writer.write_table(pa.table({"a": pa.array(a, pa.float64()), "b": pa.array(b, schema.field("b").type)}))
    if lie is None:
        return
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    for g, (a, _) in enumerate(groups):
        old = np.array(a, np.float64)
        if old.size == 0:
            continue
        chunk = meta.row_group(g).column(0)  # one uncompressed PLAIN page: the values end the chunk
        end = chunk.data_page_offset + chunk.total_compressed_size
        assert data[end - old.nbytes:end] == old.tobytes()
        data[end - old.nbytes:end] = (old * lie).tobytes()
    path.write_bytes(bytes(data))


def write_dataset(root, drawn, name):
    files, lies = drawn
    d = root / name
    d.mkdir()
    for i, (groups, lie) in enumerate(zip(files, lies)):
        b_type = pa.int64() if i % 2 == 0 else pa.float32()
        write_file(d / f"part-{i:02d}.parquet", groups, lie, pa.schema([("a", pa.float64()), ("b", b_type)]))
    return d


@settings(max_examples=examples(10))
@given(ref=datasets(), cur=datasets(), statistics=st.booleans())
def test_partitioned_files_give_bit_identical_results(dask_client, tmp_path_factory, ref, cur, statistics):
    root = tmp_path_factory.mktemp("parts")
    ref_dir, cur_dir = write_dataset(root, ref, "ref"), write_dataset(root, cur, "cur")
    executor = DaskExecutor(dask_client, partition_rows=7)  # several partitions per file
    kw = dict(use_statistics=statistics, batch_size=5)
    try:
        local = streamdrift.compare(ref_dir, cur_dir, **kw)
    except DriftError as exc:  # a side without rows: the same error
        with pytest.raises(DriftError) as remote_error:
            streamdrift.compare(ref_dir, cur_dir, dask=executor, **kw)
        assert str(remote_error.value) == str(exc)
        return
    remote = streamdrift.compare(ref_dir, cur_dir, dask=executor, **kw)
    assert list(remote.json_lines()) == list(local.json_lines())

    with open_source(ref_dir, "reference") as source:
        Profile.build(source, ["a", "b"], 5).save(root / "local.profile")
    with executor.open(str(ref_dir), "reference") as source:
        Profile.build(source, ["a", "b"], 5, executor=executor).save(root / "dask.profile")
    assert (root / "dask.profile").read_bytes() == (root / "local.profile").read_bytes()


def test_both_sides_partitions_go_to_the_cluster_as_one_graph(dask_client, tmp_path):
    """No barrier between the sides: the current side's partitions run beside the reference's last ones."""
    for side, shift in (("ref", 0.0), ("cur", 0.5)):
        for i in range(3):
            pq.write_table(pa.table({"a": np.arange(100) / 100 + shift}), tmp_path / f"{side}-{i}.parquet")
    ref, cur = sorted(tmp_path.glob("ref-*")), sorted(tmp_path.glob("cur-*"))
    expected = list(streamdrift.compare(ref, cur).json_lines())
    got = []
    sizes = graphs_of(dask_client, "fill_partition", lambda: got.extend(streamdrift.compare(ref, cur, dask=dask_client).json_lines()))
    assert sizes == [6]
    assert got == expected


# ---------------------------------------------------------------- dask DataFrames


def test_dask_dataframes_run_on_their_client_and_match_pandas(dask_client):
    rng = np.random.default_rng(7)
    ref = {"x": rng.normal(0, 1, 3000), "y": rng.integers(0, 9, 3000).astype(np.float64)}
    cur = {"x": rng.normal(0.4, 1, 2000), "y": rng.integers(0, 12, 2000).astype(np.float64)}
    ref["y"][1000:2000] = np.nan  # one partition of y entirely missing
    pdf_ref, pdf_cur = streamdrift_frames(ref), streamdrift_frames(cur)
    expected = list(streamdrift.compare(pdf_ref, pdf_cur).json_lines())
    ddf_ref, ddf_cur = dd.from_pandas(pdf_ref, npartitions=3, sort=False), dd.from_pandas(pdf_cur, npartitions=4, sort=False)
    assert list(streamdrift.compare(ddf_ref, ddf_cur, dask=dask_client).json_lines()) == expected
    with dask_client.as_current():
        assert list(streamdrift.compare(ddf_ref, ddf_cur).json_lines()) == expected
    assert list(streamdrift.compare(ddf_ref, pdf_cur, dask=dask_client).json_lines()) == expected


def streamdrift_frames(columns):
    import pandas as pd

    return pd.DataFrame(columns)


def test_map_unordered_runs_on_the_workers(dask_client):
    got = list(DaskExecutor(dask_client).map_unordered(worker_and_square, range(12)))
    assert sorted((x, r[1]) for x, r in got) == [(x, x * x) for x in range(12)]
    assert {r[0] for _, r in got} <= set(dask_client.scheduler_info()["workers"])


def worker_and_square(x):
    return distributed.get_worker().address, x * x


# ---------------------------------------------------------------- errors, worker death, Ctrl-C


def test_a_path_no_worker_can_read_names_the_worker_and_the_path(dask_client, tmp_path):
    pq.write_table(pa.table({"a": [1.0, 2.0]}), tmp_path / "ok.parquet")
    with pytest.raises(DriftError, match=r"^on worker tcp://127\.0\.0\.1:\d+: cannot read '.*missing\.parquet': no such file"):
        streamdrift.compare(tmp_path / "ok.parquet", tmp_path / "missing.parquet", dask=dask_client)
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(DriftError, match=r"^on worker tcp://.*'.*empty\.parquet' is not a Parquet or Arrow IPC file \(it is empty\)"):
        streamdrift.compare(tmp_path / "ok.parquet", tmp_path / "empty.parquet", dask=dask_client)
    pq.write_table(pa.table({"b": [1.0]}), tmp_path / "other.parquet")
    with pytest.raises(DriftError, match="column 'a' is missing from '.*other.parquet'"):
        streamdrift.compare(tmp_path / "ok.parquet", [tmp_path / "ok.parquet", tmp_path / "other.parquet"], dask=dask_client)


@pytest.fixture(scope="module")
def many_parts(tmp_path_factory):
    """16 files of 2 row groups: enough partitions to kill a worker or press Ctrl-C in the middle."""
    d = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(3)
    for side in ("ref", "cur"):
        (d / side).mkdir()
        for i in range(16):
            table = pa.table({f"c{j}": rng.normal(j, 1 + (side == "cur"), 20_000) for j in range(4)})
            pq.write_table(table, d / side / f"p{i:02d}.parquet", row_group_size=10_000)
    return d


COUNTING = ("('fill_partition", "('merge", "fill_partition", "merge")


def test_ctrl_c_cancels_the_clusters_futures(dask_client, many_parts):
    executor = DaskExecutor(dask_client, partition_rows=10_000)
    interrupt_while_running(dask_client, "fill_partition", lambda: streamdrift.compare(
        many_parts / "ref", many_parts / "cur", use_statistics=False, dask=executor))

    def tasks(dask_scheduler):  # this compare's (other tests' finished futures may still be referenced)
        return [(str(k), ts.state) for k, ts in dask_scheduler.tasks.items() if str(k).startswith(COUNTING)]

    assert left_on_scheduler(dask_client, tasks) == []


def test_a_worker_killed_mid_compare_gives_the_exact_answer(dask_client, many_parts):
    expected = list(streamdrift.compare(many_parts / "ref", many_parts / "cur", use_statistics=False).json_lines())
    result = {}

    def run():
        try:
            result["lines"] = list(streamdrift.compare(
                many_parts / "ref", many_parts / "cur", use_statistics=False,
                dask=DaskExecutor(dask_client, partition_rows=10_000)).json_lines())
        except DriftError as exc:  # Dask gave up on the task: a clear error, never a wrong number
            result["error"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    kill_a_busy_worker(both_workers(dask_client), "fill_partition")
    thread.join(300)
    assert not thread.is_alive()
    if "error" in result:
        assert result["error"].startswith("Dask workers died running")
    else:
        assert result["lines"] == expected


def exit_on_zero(x):
    """Kills the worker process that runs item 0 (as a task that takes its worker down would)."""
    if x == 0:
        os._exit(1)
    return x


def test_an_item_whose_workers_kept_dying_goes_to_lost(dask_client):
    def allow(dask_scheduler, n):
        old, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, n
        return old

    old = dask_client.run_on_scheduler(allow, n=0)  # give up at the first death, not the fourth
    try:
        got = dict(DaskExecutor(both_workers(dask_client)).map_unordered(
            exit_on_zero, range(4), lost=lambda item, message: message))
    finally:
        dask_client.run_on_scheduler(allow, n=old)
    assert sorted(got) == [0, 1, 2, 3]  # each item once
    assert got[0].startswith("Dask workers died running")
    for k in (1, 2, 3):  # its own value, or lost too if it waited on the dying worker; never another value
        assert got[k] == k or got[k].startswith("Dask workers died running"), got[k]
