"""An Arrow IPC stream without its end-of-stream marker (its producer died between batches) is an error:
exit 2, naming the stream and the rows before the cut; those rows are still counted and reported."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift.comparison import compare
from streamdrift.errors import DriftError
from streamdrift.watch import Problem, batches, stdin_batches
from tests.streamdrift.cli_helpers import pipe, records, sd
from tests.streamdrift.watch_data import COLUMNS, CUR, REF, stream_bytes

END = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def cut_stream(table, chunk=700) -> bytes:
    """The stream cut between two batches: every batch whole, no end-of-stream marker."""
    whole = stream_bytes(table, chunk)
    assert whole.endswith(END)
    return whole[: -len(END)]


def split(items):
    rows = sum(i.num_rows for i in items if not isinstance(i, Problem))
    return rows, [i for i in items if isinstance(i, Problem)]


def test_a_cut_stream_on_standard_input_is_a_problem_after_its_rows():
    rows, problems = split(list(stdin_batches(COLUMNS, 1000, io.BytesIO(cut_stream(CUR.select(COLUMNS))))))
    assert rows == CUR.num_rows
    (p,) = problems
    assert p.where == "standard input" and p.rows == CUR.num_rows
    assert f"ends without its end-of-stream marker after {CUR.num_rows} rows" in str(p.error)
    whole, problems = split(list(stdin_batches(COLUMNS, 1000, io.BytesIO(stream_bytes(CUR.select(COLUMNS))))))
    assert whole == CUR.num_rows and problems == []


def test_the_old_four_byte_end_marker_still_ends_a_stream():
    old = cut_stream(CUR.select(COLUMNS)) + b"\x00\x00\x00\x00"  # before Arrow 0.15: no continuation bytes
    rows, problems = split(list(stdin_batches(COLUMNS, 1000, io.BytesIO(old))))
    assert rows == CUR.num_rows and problems == []


def test_a_cut_stream_file_is_a_problem_naming_it(tmp_path):
    path = tmp_path / "part.arrows"
    path.write_bytes(cut_stream(CUR.select(COLUMNS)))
    rows, problems = split(list(batches([str(path)], COLUMNS)))
    assert rows == CUR.num_rows
    (p,) = problems
    assert p.rows == CUR.num_rows
    assert str(p.error).startswith(f"'{path}' ends without its end-of-stream marker after {CUR.num_rows} rows")


def test_compare_refuses_a_cut_stream(tmp_path):
    path = tmp_path / "cur.arrows"
    path.write_bytes(cut_stream(CUR.select(COLUMNS)))
    with pytest.raises(DriftError, match=f"'{path}' ends without its end-of-stream marker after {CUR.num_rows} rows"):
        compare(REF, str(path), columns=COLUMNS)
    pq.write_table(REF, tmp_path / "ref.parquet")
    r = sd("compare", tmp_path / "ref.parquet", path, "-c", "a,b")
    assert r.returncode == 2
    err = r.stderr.decode().strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1 and "end-of-stream marker" in err, err
    r = sd("compare", tmp_path / "ref.parquet", "-", "-c", "a,b", input=path.read_bytes())
    assert r.returncode == 2 and "standard input ends without its end-of-stream marker" in r.stderr.decode()


def test_cat_of_a_bad_file_into_watch_is_an_error_with_the_rows_before_it(tmp_path):
    """The issue's pipe: cat stops at a damaged file without ending its stream; watch reports
    the rows that came before, then exits 2 naming standard input and those rows."""
    good, bad, ref = tmp_path / "good.parquet", tmp_path / "truncated.parquet", tmp_path / "ref.parquet"
    pq.write_table(CUR, good)
    bad.write_bytes(good.read_bytes()[:-100])
    pq.write_table(REF, ref)
    (rc_cat, err_cat), (rc, out, err) = pipe(["cat", good, bad], ["watch", "-r", ref, "-", "-w", "1000",
                                                                 "--format", "json"])
    assert rc_cat == 2 and "truncated.parquet" in err_cat.decode()
    assert rc == 2, err
    recs = [r for r in records(out) if r["feature"] == "a"]
    assert recs[-1]["end_row"] == CUR.num_rows and recs[-1]["partial"]
    message = err.decode()
    assert f"error: standard input ends without its end-of-stream marker after {CUR.num_rows} rows" in message
    assert f"watched {CUR.num_rows} rows" in message


def test_cat_refuses_a_cut_stream_file(tmp_path):
    path = tmp_path / "x.arrows"
    path.write_bytes(cut_stream(CUR.select(COLUMNS)))
    r = sd("cat", path)
    assert r.returncode == 2 and "end-of-stream marker" in r.stderr.decode()
    reader = pa.ipc.open_stream(r.stdout)  # its own output is cut too: nothing downstream takes it as whole
    assert sum(b.num_rows for b in reader) == CUR.num_rows
    assert not r.stdout.endswith(END)
