#!/usr/bin/env python
"""streamdrift benchmarks: every measurement next to its baseline, in the same run.

    python benchmarks/run.py [--quick] [--only kernel,compare,...] [--repeats N] [--out FILE]

Each module of benchmarks/groups/ is one group: it declares ``ORDER`` (its place in the run),
``SIZES`` (``{"full": {...}, "quick": {...}}``) and ``run(ctx) -> list[Row]``, times
streamdrift and its baseline interleaved, asserts that both computed the same answer (the
oracle is tests/oracle.py), and returns named ``Row`` records with the median ratio, its
range, the target and PASS/MISS. A new group is a new file there; nothing else changes.

Data is generated deterministically under benchmarks/data/ (gitignored) and reused.
This is not part of the test suite: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import numpy as np  # noqa: E402

from _harness import Row, fmt_value  # noqa: E402
from _report import machine, markdown  # noqa: E402

GROUPS_DIR = HERE / "groups"


@dataclasses.dataclass
class Context:
    """What a group gets: its sizes, the run's mode and repeats, and values groups hand on."""

    sizes: dict
    quick: bool
    repeats: int
    shared: dict


def discover() -> dict:
    """Every group module in benchmarks/groups/, by name, in ``ORDER``."""
    mods = [importlib.import_module(f"groups.{m.name}") for m in pkgutil.iter_modules([str(GROUPS_DIR)])
            if not m.name.startswith("_")]
    return {m.__name__.split(".")[-1]: m for m in sorted(mods, key=lambda m: (m.ORDER, m.__name__))}


def run_group(name, module, args, shared) -> tuple[list[Row], str | None]:
    """The group's rows, or an ERROR row and the error (a failed check or a crash)."""
    sizes = dict(module.SIZES["quick" if args.quick else "full"])
    ctx = Context(sizes=sizes, quick=args.quick, repeats=args.repeats or (3 if args.quick else 5), shared=shared)
    try:
        return module.run(ctx), None
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
        return [Row(group=name, case="ERROR", value=None, unit="", note=error[:300])], error


def main(argv=None) -> int:
    groups = discover()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: every group runs and agrees, quickly")
    ap.add_argument("--only", default="", help=f"comma-separated groups among {','.join(groups)}")
    ap.add_argument("--repeats", type=int, default=0, help="interleaved rounds per timing (default 5, quick 3)")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.json"), help="where to write the JSON results")
    args = ap.parse_args(argv)
    only = [g.strip() for g in args.only.split(",") if g.strip()] or list(groups)
    unknown = [g for g in only if g not in groups]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; choose among {', '.join(groups)}")
    m = machine(ROOT)
    t0 = time.perf_counter()
    rows, errors, shared, loads = [], {}, {}, {}
    for name in only:
        tg = time.perf_counter()
        loads[name] = os.getloadavg()[0]
        print(f"# {name} ...", file=sys.stderr, flush=True)
        got, error = run_group(name, groups[name], args, shared)
        rows.extend(got)
        if error:
            errors[name] = error
        for r in got:
            if r.status in ("PASS", "MISS"):
                print(f"#   {r.case}: {r.ratio_text or fmt_value(r.value, r.unit)} (target {r.target}) {r.status}", file=sys.stderr)
        print(f"#   {time.perf_counter() - tg:.1f} s", file=sys.stderr, flush=True)
    duration = time.perf_counter() - t0
    m["loadavg_end"] = os.getloadavg()
    m["load_by_group"] = loads
    text = markdown(m, rows, args.quick, duration)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text + "\n")
    doc = dict(machine=m, quick=args.quick, duration_s=duration, rows=[r.as_dict() for r in rows], errors=errors)
    out.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    print(f"\nJSON: {out} (table: {out.with_suffix('.md')})", file=sys.stderr)
    return 1 if errors else 0


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, tuple):
        return list(o)
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
