"""Data shared by the watch tests: a reference and a current table, and ways to write them."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.watch import Watcher

COLUMNS = ["a", "b"]


def tables(n_ref=3000, n_cur=2500, seed=0):
    rng = np.random.default_rng(seed)
    ref = pa.table({"a": rng.normal(0, 1, n_ref), "b": rng.integers(0, 30, n_ref), "s": ["x"] * n_ref})
    a = rng.normal(0.3, 1.2, n_cur)
    a[rng.random(n_cur) < 0.05] = np.nan
    cur = pa.table({"a": a, "b": rng.integers(5, 40, n_cur), "s": ["y"] * n_cur})
    return ref, cur


REF, CUR = tables()


def write_parts(folder, table, n, **kw):
    folder.mkdir(exist_ok=True)
    rows = np.array_split(np.arange(table.num_rows), n)
    paths = []
    for i, r in enumerate(rows):
        p = folder / f"part-{i:03d}.parquet"
        pq.write_table(table.slice(int(r[0]), r.size), p, **kw)
        paths.append(p)
    return paths


def stream_bytes(table, chunk: int = 700) -> bytes:
    """``table`` as the bytes of an Arrow IPC stream, with its end-of-stream marker."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        for b in table.to_batches(max_chunksize=chunk):
            w.write_batch(b)
    return sink.getvalue()


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
