"""``watch --metrics-port``: Prometheus metrics scraped over 127.0.0.1 during a real watch, parsed with
prometheus_client's own parser."""

import json
import re
import signal
import subprocess
import urllib.request

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.streamdrift.cli_helpers import CMD, ENV, modules_loaded, rest_of, wait_until

parser = pytest.importorskip("prometheus_client.parser")  # in the test extra: skipped only outside it


def scrape(url: str) -> dict:
    """``{(name, labels): value}`` of every sample at ``url``."""
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parser.text_string_to_metric_families(text) for s in family.samples}


def test_metrics_of_a_following_watch(tmp_path):
    rng = np.random.default_rng(4)
    pq.write_table(pa.table({"a": rng.normal(0, 1, 2000), "b": rng.normal(0, 1, 2000)}), tmp_path / "ref.parquet")
    incoming = tmp_path / "in"
    incoming.mkdir()
    proc = subprocess.Popen([*CMD, "watch", "-r", str(tmp_path / "ref.parquet"), "--follow", str(incoming),
                             "--poll-interval", "0.05", "-w", "500", "--format", "json", "--metrics-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        announced = proc.stderr.readline().decode()
        found = re.fullmatch(r"serving metrics on (http://127\.0\.0\.1:\d+/metrics)\n", announced)
        assert found, announced
        url = found.group(1)
        before = scrape(url)
        assert before[("streamdrift_rows_total", ())] == 0 and before[("streamdrift_windows_total", ())] == 0

        pq.write_table(pa.table({"a": rng.normal(3, 1, 500), "b": rng.normal(0, 1, 500)}), incoming / "p0.parquet")
        (incoming / "p1.parquet").write_bytes(b"not data at all: an error, skipped")
        pq.write_table(pa.table({"a": rng.normal(0, 1, 700), "b": rng.normal(0, 1, 700)}), incoming / "p2.parquet")
        out = [json.loads(proc.stdout.readline()) for _ in range(4)]  # windows 0 and 1, two features each
        assert [(r["window"], r["feature"]) for r in out] == [(0, "a"), (0, "b"), (1, "a"), (1, "b")]

        # A window is printed as soon as it completes, the rows of its batch are counted after the batch:
        wait_until(lambda: scrape(url)[("streamdrift_rows_total", ())] == 1200)
        m = scrape(url)
        assert m[("streamdrift_windows_total", ())] == 2
        drifted = {r["window"] for r in out if r["drifted"]}
        assert 0 in drifted  # (a is shifted by 3 there)
        assert m[("streamdrift_drifted_windows_total", ())] == len(drifted)
        assert m[("streamdrift_file_errors_total", ())] == 1
        assert m[("streamdrift_last_window_timestamp_seconds", ())] > 1.7e9
        for r in out[2:]:  # the latest window's values
            labels = (("feature", r["feature"]),)
            assert m[("streamdrift_feature_kl", labels)] == r["kl"]
            assert m[("streamdrift_feature_drifted", labels)] == float(r["drifted"])
    finally:
        proc.send_signal(signal.SIGINT)
        rest_of(proc)
    assert proc.returncode == 130


def test_metrics_host_and_a_port_in_use_are_clear_errors(tmp_path):
    pq.write_table(pa.table({"a": np.arange(10.0)}), tmp_path / "ref.parquet")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([*CMD, "watch", "-r", str(tmp_path / "ref.parquet"), str(tmp_path / "ref.parquet"),
                            "--metrics-port", str(port)], capture_output=True, env=ENV, timeout=120)
    err = r.stderr.decode().strip()
    assert r.returncode == 2 and err.startswith("error: cannot serve metrics on 127.0.0.1:") and len(err.splitlines()) == 1


def test_prometheus_client_is_imported_only_for_metrics(tmp_path):
    pq.write_table(pa.table({"a": np.arange(10.0)}), tmp_path / "ref.parquet")
    args = ["watch", "-r", tmp_path / "ref.parquet", tmp_path / "ref.parquet", "-q"]
    assert modules_loaded(args, ("prometheus_client",)) == []
