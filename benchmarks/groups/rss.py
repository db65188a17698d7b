"""Peak memory of the ``streamdrift compare`` command: flat from 1M to 10M rows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import _data
from _baselines import check_records, parquet_oracle, pyarrow_subprocess
from _harness import Row, cli_command, run_measured

ORDER = 40
SIZES = {"full": {"small": 1_000_000, "big": 10_000_000}, "quick": {"small": 20_000, "big": 200_000}}


def run(ctx) -> list[Row]:
    small, big = ctx.sizes["small"], ctx.sizes["big"]
    res = {}
    for n in (small, big):
        ref, cur = _data.parquet_file("reference", n), _data.parquet_file("current", n)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.jsonl"
            runs = [run_measured(cli_command("compare", ref, cur, "--format", "json"), out) for _ in range(2)]
            records = [json.loads(s) for s in out.read_text().splitlines() if s.strip()]
        if n == small:
            check_records(records, parquet_oracle([ref], [cur], _data.COLUMNS), f"compare CLI at {n:,} rows")
        assert all(r["reference_count"] + r["missing_reference"] == n for r in records), f"rows counted != {n}"
        base = pyarrow_subprocess(65536, _data.COLUMNS, [ref, cur], 2 * n)
        res[n] = dict(rss=min(r.rss_mib for r in runs), wall=min(r.wall for r in runs), base=base.rss_mib)
    g = res[big]["rss"] / res[small]["rss"]
    return [
        Row(group="rss", case=f"`streamdrift compare` CLI peak RSS, {small / 1e6:g}M rows x 10 (1x)",
            value=res[small]["rss"], unit="MiB", baseline_name="pyarrow iterating (subprocess)",
            baseline=res[small]["base"], ratio=res[small]["rss"] / res[small]["base"],
            ratio_text=f"{res[small]['rss'] / res[small]['base']:.2f}x of pyarrow"),
        Row(group="rss", case=f"`streamdrift compare` CLI peak RSS, {big / 1e6:g}M rows x 10 (10x)",
            value=res[big]["rss"], unit="MiB", baseline_name="same command at 1x", baseline=res[small]["rss"],
            ratio=g, ratio_text=f"{g:.2f}x of 1x (pyarrow alone {res[big]['base']:.0f} MiB)",
            target="flat: <= 1.1x", ok=g <= 1.1),
    ]
