"""Categorical features in ``watch`` and ``profile`` (SPEC section 2b): every window against the
pandas ``value_counts`` oracle, dictionaries that differ between batches and files, categories
new in a window, saved profiles, and the command line in real subprocesses."""

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift import DriftError, compare
from streamdrift.profile import Profile
from streamdrift.watch import load_reference, watch
from tests.oracle import oracle_categorical
from tests.strategies import examples, splits
from tests.streamdrift.cli_helpers import records, sd
from tests.streamdrift.test_categorical import LAYOUTS, WORDS, arrow_column
from tests.streamdrift.watch_data import run

values = st.lists(st.one_of(st.none(), st.sampled_from(WORDS)), max_size=40)


@settings(max_examples=examples(40), deadline=None)
@given(values.filter(lambda v: len(v) > 0), values, st.sampled_from(LAYOUTS), st.sampled_from(LAYOUTS),
       st.sampled_from(["combined", "reference"]), st.data())
def test_every_window_equals_the_oracle(ref_values, cur_values, ref_layout, cur_layout, edges, data):
    """Each window's categories, counts and KL are SPEC 2b on (reference, that window's rows),
    whatever Arrow layout each side has (dictionaries differ per batch)."""
    ref = pa.table({"c": arrow_column(ref_values, ref_layout, data.draw(splits(len(ref_values))))})
    cur = pa.table({"c": arrow_column(cur_values, cur_layout, data.draw(splits(len(cur_values))))})
    window = data.draw(st.integers(1, max(1, len(cur_values))))
    windows = run(load_reference(ref, edges=edges), cur, data.draw(splits(len(cur_values))), window=window,
                  edges=edges)
    assert sum(w.rows for w in windows) == len(cur_values)
    for w in windows:
        (got,) = w.features
        want = oracle_categorical(ref_values, cur_values[w.start_row : w.end_row])
        assert got.kind == "categorical" and got.categories == want["categories"]
        assert (got.reference_counts, got.current_counts) == (want["ref_counts"].tolist(), want["cur_counts"].tolist())
        assert (got.missing_reference, got.missing_current) == (want["missing_reference"], want["missing_current"])
        assert got.new_categories == len(want["new_categories"])
        if want["kl"] is None:
            assert got.kl is None and got.reason
        else:
            assert abs(got.kl - want["kl"]) <= 1e-12


def flights(root):
    """A reference and two part files of flights: strings in the reference, dictionaries that differ
    per file (and per row group) in the parts, an integer zip code, a date; 'WN' is new in part 1."""
    rng = np.random.default_rng(5)
    n = 1500
    ref = pa.table({"delay": rng.normal(10, 5, n), "carrier": rng.choice(["AA", "UA", "DL"], n),
                    "zip": rng.choice([10115, 20095], n), "day": [datetime.date(2013, 1, 1)] * n})
    pq.write_table(ref, root / "ref.parquet", row_group_size=400)
    parts = root / "parts"
    parts.mkdir()
    for i, carriers in enumerate([["DL", "AA", "UA"], ["UA", "WN", None]]):
        m = 700
        carrier = pa.array(rng.choice(np.array(carriers, dtype=object), m), pa.string()).dictionary_encode()
        pq.write_table(pa.table({"delay": rng.normal(10 + 4 * i, 5, m), "carrier": carrier,
                                 "zip": rng.choice([10115, 80331], m), "day": [datetime.date(2013, 7, 1)] * m}),
                       parts / f"part-{i}.parquet", row_group_size=250)
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return flights(tmp_path_factory.mktemp("flights"))


def test_watch_json_records_equal_compare_of_each_window(data):
    r = sd("watch", "-r", data / "ref.parquet", data / "parts", "-w", "600", "--categorical", "zip", "--format", "json")
    assert r.returncode == 1, r.stderr
    assert r.stderr.decode().splitlines()[0] == ("skipped 1 column that is neither a number nor a category: "
                                                 "day (date32[day]); name it with --columns to bin it as numbers")
    recs = records(r.stdout)
    assert [x["feature"] for x in recs[:3]] == ["delay", "carrier", "zip"]
    whole = pa.concat_tables([pq.read_table(p) for p in sorted((data / "parts").iterdir())])
    for index in range(3):
        mine = [x for x in recs if x["window"] == index]
        start, end = mine[0]["start_row"], mine[0]["end_row"]
        exact = compare(str(data / "ref.parquet"), whole.slice(start, end - start), categorical=["zip"])
        for got in mine:
            want = exact[got["feature"]].to_dict()
            assert {k: got[k] for k in want} == want
    carrier = [x for x in recs if x["feature"] == "carrier"]
    assert [x["new_categories"] for x in carrier] == [0, 1, 1]  # WN arrives in the second file (row 700)
    assert carrier[2]["new_category_examples"] == ["WN"] and carrier[2]["categories"] == 4
    assert {x["kind"] for x in recs if x["feature"] == "zip"} == {"categorical"}


@pytest.mark.parametrize("edges", ["combined", "reference"])
def test_a_saved_profile_gives_the_same_windows(data, tmp_path, edges):
    prof = tmp_path / "ref.profile"
    p = sd("profile", data / "ref.parquet", "-o", prof, "--categorical", "zip")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().startswith("profiled 3 features (1 numeric, 2 categorical) of ")
    args = [data / "parts", "-w", "500", "--format", "json", "--edges", edges]
    raw = sd("watch", "-r", data / "ref.parquet", "--categorical", "zip", *args)
    saved = sd("watch", "-r", prof, *args)
    assert raw.returncode == saved.returncode == 1, saved.stderr
    assert saved.stdout == raw.stdout
    wrong = sd("watch", "-r", prof, "--categorical", "delay", *args)
    assert wrong.returncode == 2 and wrong.stderr.decode() == (
        f"error: column 'delay' is numeric in profile '{prof}'; make the profile with --categorical delay to "
        "watch it as categories\n")


def test_profile_round_trip_is_bit_identical(data, tmp_path):
    """Per-category counts survive save and load exactly: saved again, the file has the same bytes,
    and the watch's reference (its fingerprint, what --state checks) is the same as the data's."""
    raw = load_reference(str(data / "ref.parquet"), categorical=["zip"])
    raw.profile.save(tmp_path / "a.profile")
    loaded = Profile.load(tmp_path / "a.profile")
    loaded.save(tmp_path / "b.profile")
    assert (tmp_path / "a.profile").read_bytes() == (tmp_path / "b.profile").read_bytes()
    assert all(loaded[f] == raw.profile[f] for f in ("carrier", "zip"))
    assert load_reference(str(tmp_path / "a.profile")).fingerprint() == raw.fingerprint()
    other = load_reference(pq.read_table(data / "ref.parquet").slice(1), categorical=["zip"])
    assert other.fingerprint() != raw.fingerprint()


def test_stdin_stream_whose_dictionaries_change_between_batches(data):
    """An Arrow IPC stream carries a new dictionary for each batch; categories are counted by value."""
    import io

    words = [["AA", "UA"], ["WN", "AA", None], ["DL"]]
    batches = [pa.record_batch({"carrier": pa.array(w * 100).dictionary_encode()}) for w in words]
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, batches[0].schema) as writer:
        for b in batches:
            writer.write_batch(b)
    r = sd("watch", "-r", data / "ref.parquet", "-c", "carrier", "-", "-w", "300", "--format", "json",
           input=sink.getvalue())
    assert r.returncode == 1, r.stderr
    got = records(r.stdout)
    rows = [v for w in words for v in w * 100]
    assert [(x["start_row"], x["end_row"]) for x in got] == [(0, 300), (300, 600)]
    for rec in got:
        want = oracle_categorical(pq.read_table(data / "ref.parquet")["carrier"].to_pylist(),
                                  rows[rec["start_row"] : rec["end_row"]])
        assert abs(rec["kl"] - want["kl"]) <= 1e-12 and rec["new_categories"] == len(want["new_categories"])
        assert (rec["current_count"], rec["missing_current"]) == (want["current_count"], want["missing_current"])


def test_a_file_of_another_kind_is_skipped_naming_it(data, tmp_path):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"delay": [1.0], "carrier": [1.5], "zip": [10115], "day": [datetime.date(2013, 1, 1)]}),
                   bad)
    r = sd("watch", "-r", data / "ref.parquet", data / "parts" / "part-0.parquet", bad, "-q")
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        f"error: column 'carrier' is string in reference '{data / 'ref.parquet'}' but double in '{bad}'; both sides "
        "must be numbers or both categories (or leave it out with --columns) (skipped)"]
    lines = r.stdout.decode().splitlines()
    assert lines and all(line.startswith("window ") and ": Drifted: " in line for line in lines)


def test_too_many_categories_in_a_window_is_undefined_not_a_crash(data):
    r = sd("watch", "-r", data / "ref.parquet", data / "parts", "-c", "carrier", "--max-categories", "3", "-w", "700",
           "--format", "json")
    carrier = records(r.stdout)
    assert carrier[0]["kl"] is not None  # 3 categories: within the cap
    assert carrier[-1]["kl"] is None and carrier[-1]["reason"] == (
        "more than 3 distinct categories (the cap); raise --max-categories to compare it")


def test_watch_api_takes_categorical_options(data):
    windows = list(watch(str(data / "ref.parquet"), [data / "parts"], window=700, categorical=["zip"],
                         max_categories=5))
    assert [f.kind for f in windows[0].features] == ["numeric", "categorical", "categorical"]
    assert windows[1].features[2].new_category_examples == [80331]
    with pytest.raises(DriftError, match="max_categories must be a whole number >= 1"):
        list(watch(str(data / "ref.parquet"), [data / "parts"], max_categories=0))


def test_state_of_a_categorical_watch_resumes_and_checks_its_settings(data, tmp_path):
    """--state: the reference's categories are in its fingerprint and the cap in its settings."""
    state, ref, parts = tmp_path / "w.state", str(data / "ref.parquet"), [data / "parts"]
    first = [w.records() for w in watch(ref, parts, window=500, categorical=["zip"], state=state)]
    assert len(first) == 3 and first[-1][0]["partial"]
    again = [w.records() for w in watch(ref, parts, window=500, categorical=["zip"], state=state)]
    assert again == first[-1:]  # only the partial last window is read again
    with pytest.raises(DriftError, match="max_categories: 10000 there, 5 now"):
        list(watch(ref, parts, window=500, categorical=["zip"], state=state, max_categories=5))
    with pytest.raises(DriftError, match="reference: "):
        list(watch(pq.read_table(ref).slice(1), parts, window=500, categorical=["zip"], state=state))


def test_part_files_may_hold_strings_or_dictionaries(tmp_path):
    """Categories are counted by value: a file of strings may follow one of dictionaries (numbers
    must keep their first type)."""
    parts = tmp_path / "parts"
    parts.mkdir()
    pieces = [["a", "b", "a"], ["c", None, "a", "a"], ["b", "b"]]
    layouts = [lambda v: pa.array(v).dictionary_encode(), lambda v: pa.array(v, pa.string()),
               lambda v: pa.array(v, pa.large_string())]
    for i, (values, layout) in enumerate(zip(pieces, layouts)):
        pq.write_table(pa.table({"c": layout(values)}), parts / f"part-{i}.parquet")
    ref = ["a", "b", "b", None]
    windows = list(watch({"c": ref}, [parts], window=4))
    rows = [v for p in pieces for v in p]
    assert [w.end_row for w in windows] == [4, 8, 9]
    for w in windows:
        want = oracle_categorical(ref, rows[w.start_row : w.end_row])
        (got,) = w.features
        assert got.current_counts == want["cur_counts"].tolist() and abs(got.kl - want["kl"]) <= 1e-12
