"""Run in the side environment (see evidently.py): time Evidently and streamdrift on the same frames.

    python _evidently_child.py REFERENCE.parquet CURRENT.parquet ROUNDS

Prints one JSON object: the samples of both, Evidently's scores and streamdrift's KL.
"""

import json
import sys
import time

import evidently
import pyarrow.parquet as pq
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

import streamdrift


def evidently_scores(ref_df, cur_df, cols) -> dict:
    definition = DataDefinition(numerical_columns=cols)
    report = Report([DataDriftPreset(method="kl_div")]).run(
        Dataset.from_pandas(cur_df, data_definition=definition),
        Dataset.from_pandas(ref_df, data_definition=definition))
    out = {}
    for m in report.dict().get("metrics", []):
        col = (m.get("config") or {}).get("column")
        if col in cols and isinstance(m.get("value"), (int, float)):
            out[col] = float(m["value"])
    return out


def main(ref_path, cur_path, rounds):
    ref_df, cur_df = pq.read_table(ref_path).to_pandas(), pq.read_table(cur_path).to_pandas()
    cols = list(ref_df.columns)
    fns = {"evidently": lambda: evidently_scores(ref_df, cur_df, cols),
           "streamdrift": lambda: streamdrift.compare(ref_df, cur_df)}
    samples, results = {k: [] for k in fns}, {k: fn() for k, fn in fns.items()}  # warm-up
    for _ in range(int(rounds)):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            results[name] = fn()
            samples[name].append(time.perf_counter() - t0)
    report = results["streamdrift"]
    json.dump({"version": evidently.__version__, "samples": samples, "evidently_scores": results["evidently"],
               "streamdrift_kl": report.kl(), "streamdrift_drifted": {f.feature: f.drifted for f in report}},
              sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
