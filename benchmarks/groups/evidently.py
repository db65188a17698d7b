"""Evidently's ``kl_div`` data drift against ``streamdrift.compare`` on the same pandas frames.

Evidently 0.7 does not import with pandas 3, so this group makes its own side environment
once, benchmarks/.evenv/ (gitignored): a venv layered over this interpreter's packages (a
``.pth`` file) with ``evidently`` and ``pandas<3`` installed on top, and reuses it. Both
tools run in one child process of that environment, on the same frames, interleaved.
Evidently bins its own way, so its values are not SPEC values: the check is that both
scored the same features, and the row reports how many drift decisions agree.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import _data
from _harness import HERE, Row, Timing, child_env, ratio_row

ORDER = 50
SIZES = {"full": {"rows": 1_000_000}, "quick": {"rows": 100_000}}
ENV = HERE / ".evenv"
CHILD = HERE / "_evidently_child.py"  # not beside this file: there "import evidently" would find it


def side_python() -> Path:
    """The side environment's interpreter, made (once) with evidently and pandas<3."""
    python = ENV / "bin" / "python"
    ready = ENV / "ready"
    if ready.exists():
        return python
    venv.create(ENV, with_pip=True, clear=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(purelib, "zz_streamdrift_env.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "evidently", "pandas<3"], check=True)
    ready.write_text("evidently and pandas<3 over " + sys.executable + "\n")
    return python


def run(ctx) -> list[Row]:
    n = ctx.sizes["rows"]
    ref, cur = _data.parquet_file("reference", n), _data.parquet_file("current", n)
    proc = subprocess.run([str(side_python()), str(CHILD), str(ref), str(cur), str(max(1, ctx.repeats - 3))],
                          capture_output=True, text=True, env=child_env(), timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"evidently child failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    res = json.loads(proc.stdout)
    cols = _data.COLUMNS
    assert sorted(res["evidently_scores"]) == sorted(cols), f"evidently scored {sorted(res['evidently_scores'])}"
    assert list(res["streamdrift_kl"]) == cols, "streamdrift scored other features"
    agree = sum((res["evidently_scores"][c] > 0.1) == res["streamdrift_drifted"][c] for c in cols)
    t = {k: Timing(v) for k, v in res["samples"].items()}
    row = ratio_row(group="evidently", case=f"kl_div drift, {n / 1e6:g}M rows x {len(cols)} (pandas); "
                    f"drift decisions agree on {agree} of {len(cols)}", t=t, name="streamdrift",
                    baseline="evidently", baseline_name=f"evidently {res['version']} kl_div", faster=True)
    row.extra.update(evidently_scores=res["evidently_scores"], streamdrift_kl=res["streamdrift_kl"])
    return [row]
