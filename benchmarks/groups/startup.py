"""Start-up: ``streamdrift compare`` of two 100-row files against importing numpy and pyarrow.parquet."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import _data
from _harness import Row, as_timing, cli_command, measured_rounds, ratio_row, run_measured

ORDER = 5
SIZES = {"full": {"rows": 100, "rounds": 9}, "quick": {"rows": 100, "rounds": 5}}


def run(ctx) -> list[Row]:
    n = ctx.sizes["rows"]
    ref, cur = _data.parquet_file("reference", n), _data.parquet_file("current", n)
    compare = cli_command("compare", ref, cur, "--format", "json")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        run_measured(compare, out)
        lines = out.read_text().splitlines()
        assert len(lines) == len(_data.COLUMNS), f"compare of the tiny files printed {len(lines)} records"
    cmds = dict(imports=[sys.executable, "-c", "import numpy, pyarrow.parquet"], compare=compare,
                python=[sys.executable, "-c", "pass"])
    runs = measured_rounds(cmds, ctx.sizes["rounds"])
    t = {name: as_timing(r) for name, r in runs.items()}
    rss = max(r.rss_mib for r in runs["compare"])
    return [
        ratio_row(group="startup", case=f"`streamdrift compare` of two {n}-row Parquet files, wall", t=t,
                  name="compare", baseline="imports", baseline_name='python -c "import numpy, pyarrow.parquet"',
                  limit=2.0, target="<= 2x"),
        Row(group="startup", case="  same command's peak RSS (the largest of its runs)", value=rss, unit="MiB",
            baseline_name='python -c "import numpy, pyarrow.parquet"',
            baseline=max(r.rss_mib for r in runs["imports"]), target="< 150 MiB", ok=rss < 150),
        ratio_row(group="startup", case="  `python -c pass` (info)", t=t, name="python", baseline="imports",
                  baseline_name='python -c "import numpy, pyarrow.parquet"'),
    ]
